// QConv's pre-pass: gathers, quantizes and packs the conv's patches as GEMM rows,
// aq[b][g][p][KW] (u32): row p (an output pixel) holds the Kc = cinG * KH * KW values of its
// receptive field in ONNX weight order (c, kh, kw), 4 per word from the low byte, zero-padded to
// KW = ceil(Kc/16) * 4 words; padding taps quantize to 0. Pixels become GEMM rows (not columns) so
// both operands of qgemm are K-contiguous packed words, as the weights are.
//
// One invocation per output word, flat over 64-wide workgroups: each decodes its 4 taps and reads
// 4 input values (bounds-tested). Quantizing while gathering costs each input value KH·KW
// multiplications, but keeps the pass one dispatch with no intermediate int8 image.
//
// Prefix from kernels/quant/gpu.ts: bindings x (f32), aq (u32, read_write), [scales], params
// 0 cIn, 1 H, 2 W, 3 Wo, 4 KH, 5 KW, 6 sh, 7 sw, 8 ph (i32), 9 pw (i32), 10 dh, 11 dw, 12 cinG,
// 13 group, 14 P (pixels), 15 Kc, 16 words per row, 17 total words, 18 static inv;
// fn act_inv(image), and quantize-common.wgsl.

fn tap(xBase: u32, oy: u32, ox: u32, k: u32, inv: f32) -> i32 {
  if (k >= p_u(15u)) { return 0; }
  let taps = p_u(4u) * p_u(5u);
  let ci = k / taps;
  let t = k % taps;
  let iy = i32(oy * p_u(6u) + (t / p_u(5u)) * p_u(10u)) - p_i(8u);
  let ix = i32(ox * p_u(7u) + (t % p_u(5u)) * p_u(11u)) - p_i(9u);
  let H = p_u(1u);
  let W = p_u(2u);
  if (iy < 0 || ix < 0 || u32(iy) >= H || u32(ix) >= W) { return 0; }
  return quantize(x[xBase + (ci * H + u32(iy)) * W + u32(ix)], inv);
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 64u;
  if (i >= p_u(17u)) { return; }
  let words = p_u(16u);
  let P = p_u(14u);
  let group = p_u(13u);
  let k0 = (i % words) * 4u;
  let row = i / words;
  let p = row % P;
  let z = row / P;
  let b = z / group;
  let g = z % group;
  let Wo = p_u(3u);
  let oy = p / Wo;
  let ox = p % Wo;
  let xBase = (b * p_u(0u) + g * p_u(12u)) * p_u(1u) * p_u(2u);
  let inv = act_inv(b);
  aq[i] = pack4(vec4i(tap(xBase, oy, ox, k0, inv), tap(xBase, oy, ox, k0 + 1u, inv), tap(xBase, oy, ox, k0 + 2u, inv), tap(xBase, oy, ox, k0 + 3u, inv)));
}
