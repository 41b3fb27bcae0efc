// Depthwise 2-D convolution (one input channel per group, channel multiplier coutG) with fused bias
// and activation. 1-D runs as H = 1.
//
// Computes out[n][c][oh][ow] = activation(bias[c] + sum over kh, kw of
// x[n][c / coutG][oh*sh - ph + kh*dh][ow*sw - pw + kw*dw] * W[c][0][kh][kw] + residual), zero
// padding. The residual is a following Add the planner fused in (0 when there is none).
//
// Layout: NCHW in and out. Weights are re-packed at load as w[c / 4][kh][kw][c % 4] (channels
// padded to 4) and read as vec4: one load brings a tap's weights for the invocation's 4 channels.
// Bias is packed to [C padded to 4], also read as vec4.
//
// Each invocation computes 4 channels x 4 consecutive flattened output pixels. A tap's input
// offsets and padding mask depend only on the pixels, so they are computed once per tap and
// serve all 4 channels; on SwiftShader that integer work, not the FMAs, was what the one-channel
// version spent its time on. Workgroup 64 over a flat (n, channel block, pixel block) grid, so
// the small late feature maps of the target models keep every lane busy.
//
// Prefix from conv/index.ts: bindings x, w, bias (vec4), out, params; fn activation; fn residual
// (by output index). Params:
// convParams, with 16 = channel blocks.

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let flat = gid.x + gid.y * nwg.x * 64u;
  if (flat >= p_u(18u)) { return; }
  let pixBlocks = p_u(17u);
  let cBlocks = p_u(16u);
  let cb = (flat / pixBlocks) % cBlocks;
  let n = flat / (pixBlocks * cBlocks);
  let p0 = (flat % pixBlocks) * 4u;

  let H = p_u(1u);
  let W = p_u(2u);
  let Wo = p_u(5u);
  let KH = p_u(6u);
  let KW = p_u(7u);
  let C = p_u(3u);
  let P = p_u(4u) * Wo;
  let cs = min(vec4u(cb * 4u) + vec4u(0u, 1u, 2u, 3u), vec4u(C - 1u));
  let planes = (vec4u(n * p_u(0u)) + cs / p_u(15u)) * H * W;

  let ps = min(vec4u(p0) + vec4u(0u, 1u, 2u, 3u), vec4u(P - 1u));
  let ih0 = vec4i((ps / Wo) * p_u(8u)) - vec4i(p_i(10u));
  let iw0 = vec4i((ps % Wo) * p_u(9u)) - vec4i(p_i(11u));
  var wi = cb * KH * KW;

  // accC: channel C of the block, over the 4 pixels.
  var acc0 = vec4f(0.0);
  var acc1 = vec4f(0.0);
  var acc2 = vec4f(0.0);
  var acc3 = vec4f(0.0);
  for (var kh = 0u; kh < KH; kh++) {
    let ih = ih0 + vec4i(i32(kh) * p_i(12u));
    let rowOk = (ih >= vec4i(0)) & (ih < vec4i(i32(H)));
    for (var kw = 0u; kw < KW; kw++) {
      let iw = iw0 + vec4i(i32(kw) * p_i(13u));
      let ok = rowOk & (iw >= vec4i(0)) & (iw < vec4i(i32(W)));
      let o = vec4u(select(vec4i(0), ih * i32(W) + iw, ok));
      let wv = w[wi];
      wi++;
      acc0 += select(vec4f(0.0), vec4f(x[planes.x + o.x], x[planes.x + o.y], x[planes.x + o.z], x[planes.x + o.w]), ok) * wv.x;
      acc1 += select(vec4f(0.0), vec4f(x[planes.y + o.x], x[planes.y + o.y], x[planes.y + o.z], x[planes.y + o.w]), ok) * wv.y;
      acc2 += select(vec4f(0.0), vec4f(x[planes.z + o.x], x[planes.z + o.y], x[planes.z + o.z], x[planes.z + o.w]), ok) * wv.z;
      acc3 += select(vec4f(0.0), vec4f(x[planes.w + o.x], x[planes.w + o.y], x[planes.w + o.z], x[planes.w + o.w]), ok) * wv.w;
    }
  }

  let bv = bias[cb];
  var acc = array<vec4f, 4>(acc0 + bv.x, acc1 + bv.y, acc2 + bv.z, acc3 + bv.w);
  for (var i = 0u; i < 4u; i++) {
    let c = cb * 4u + i;
    if (c >= C) { break; }
    for (var j = 0u; j < 4u; j++) {
      if (p0 + j >= P) { break; }
      let oi = (n * C + c) * P + p0 + j;
      out[oi] = activation(acc[i][j] + residual(oi));
    }
  }
}
