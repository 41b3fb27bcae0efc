// int8 W8A8 direct 2-D convolution over channel quads, one (batch item, group) per gid.z:
//   acc[p][co] = sum over kh, kw, cq of dot4(q(x at the tap, channels 4cq..4cq+3), w[g][kh][kw][cq][co])
// (exact int32), then qgemm-common.wgsl's float epilogue with pixels as rows and channels as columns.
//
// Layout: x float NCHW, quantized as it is gathered (quantize-common.wgsl, the rounding of every
// other path, so the accumulators are bit-identical): per tap and pixel one word packs 4 channels
// of the group from the low byte, channels past cin/group and padding taps as 0. Weights re-laid
// out at load (qconv.ts, quadWeights) as [g][kh][kw][cq][coBlock] of 8 words (two vec4u: channels
// 0-3 and 4-7 of the block), channels past cout/group as 0.
//
// One dispatch, no pre-pass: on SwiftShader every dispatch of a batch-1 model costs about as much
// as this kernel's work, so im2row + GEMM (or a quantizing pre-pass) lost to the float conv.
// Quantizing in the gather redoes each value KH·KW·Cout/8 times, which is cheap next to that.
// The blocking of the fp32 conv2d.wgsl: an invocation owns 4 consecutive output pixels x 8
// channels (8 vec4i accumulators), taps outside and channel quads inside, so a tap's pixel offsets
// and padding mask are computed once; per step 16 gathers + 2 weight loads feed 32 dot4 (128
// MACs). Workgroup 64, flattened over (channel block, pixel block).
//
// Prefix from kernels/quant/gpu.ts: see qgemm-common.wgsl, with aq = x as array<f32>.
// Params 0-12 as there (M = pixels, N = cout/group), then 13 H, 14 W, 15 Wo, 16 KH, 17 KW, 18 sh,
// 19 sw, 20 ph (i32), 21 pw (i32), 22 dh, 23 dw, 24 quads per group, 25 channel blocks,
// 26 pixel blocks, 27 cin/group, 28 cIn.

/** The 4 channels c0.. of one pixel (xi: channel c0's index), quantized and packed; 0 past cin/group. */
fn quad(xi: u32, c0: u32, plane: u32, inv: f32) -> u32 {
  let cinG = p_u(27u);
  var q = vec4i(quantize(aq[xi], inv), 0, 0, 0);
  if (c0 + 3u < cinG) {
    q = vec4i(q.x, quantize(aq[xi + plane], inv), quantize(aq[xi + 2u * plane], inv), quantize(aq[xi + 3u * plane], inv));
  } else {
    if (c0 + 1u < cinG) { q.y = quantize(aq[xi + plane], inv); }
    if (c0 + 2u < cinG) { q.z = quantize(aq[xi + 2u * plane], inv); }
  }
  return pack4(q);
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let flat = gid.x + gid.y * nwg.x * 64u;
  let pixBlocks = p_u(26u);
  let coBlocks = p_u(25u);
  if (flat >= coBlocks * pixBlocks) { return; }
  let cb = flat / pixBlocks;
  let p0 = (flat % pixBlocks) * 4u;
  let P = p_u(0u);
  let group = p_u(3u);
  let b = gid.z / group;
  let g = gid.z % group;
  let H = p_u(13u);
  let W = p_u(14u);
  let Wo = p_u(15u);
  let KH = p_u(16u);
  let KW = p_u(17u);
  let quads = p_u(24u);
  let plane = H * W;
  let inv = act_inv(b);

  let ps = min(vec4u(p0) + vec4u(0u, 1u, 2u, 3u), vec4u(P - 1u));
  let ih0 = vec4i((ps / Wo) * p_u(18u)) - vec4i(p_i(20u));
  let iw0 = vec4i((ps % Wo) * p_u(19u)) - vec4i(p_i(21u));
  let xBase = (b * p_u(28u) + g * p_u(27u)) * plane;
  var wi = (g * KH * KW * quads * coBlocks + cb) * 2u;

  // accJ / accJh: pixel J, channels 0-3 / 4-7 of the block.
  var acc0 = vec4i(0);
  var acc1 = vec4i(0);
  var acc2 = vec4i(0);
  var acc3 = vec4i(0);
  var acc0h = vec4i(0);
  var acc1h = vec4i(0);
  var acc2h = vec4i(0);
  var acc3h = vec4i(0);
  for (var kh = 0u; kh < KH; kh++) {
    let ih = ih0 + vec4i(i32(kh * p_u(22u)));
    let rowOk = (ih >= vec4i(0)) & (ih < vec4i(i32(H)));
    for (var kw = 0u; kw < KW; kw++) {
      let iw = iw0 + vec4i(i32(kw * p_u(23u)));
      let ok = rowOk & (iw >= vec4i(0)) & (iw < vec4i(i32(W)));
      var xi = xBase + vec4u(select(vec4i(0), ih * i32(W) + iw, ok));
      for (var cq = 0u; cq < quads; cq++) {
        let c0 = cq * 4u;
        let a = select(vec4u(0u), vec4u(quad(xi.x, c0, plane, inv), quad(xi.y, c0, plane, inv), quad(xi.z, c0, plane, inv), quad(xi.w, c0, plane, inv)), ok);
        mac4x4(a, wq[wi], &acc0, &acc1, &acc2, &acc3);
        mac4x4(a, wq[wi + 1u], &acc0h, &acc1h, &acc2h, &acc3h);
        xi += vec4u(4u * plane);
        wi += coBlocks * 2u;
      }
    }
  }
  let n0 = cb * 8u;
  store_row(acc0, p0, n0, b, g);
  store_row(acc1, p0 + 1u, n0, b, g);
  store_row(acc2, p0 + 2u, n0, b, g);
  store_row(acc3, p0 + 3u, n0, b, g);
  store_row(acc0h, p0, n0 + 4u, b, g);
  store_row(acc1h, p0 + 1u, n0 + 4u, b, g);
  store_row(acc2h, p0 + 2u, n0 + 4u, b, g);
  store_row(acc3h, p0 + 3u, n0 + 4u, b, g);
}
