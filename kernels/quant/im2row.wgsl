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
// Prefix from kernels/quant/gpu.ts: bindings x (f32), aq (u32, read_write), [scales], params as
// im2row-common.wgsl lists them (16: words per row, 17: total words), 19 static inv;
// fn act_inv(image), quantize-common.wgsl and im2row-common.wgsl.

fn tap(at: Patch, k: u32, inv: f32) -> i32 {
  let i = tap_index(at, k);
  if (i < 0) { return 0; }
  return quantize(x[u32(i)], inv);
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 64u;
  if (i >= p_u(17u)) { return; }
  let words = p_u(16u);
  let k0 = (i % words) * 4u;
  let at = patch_of(i / words);
  let inv = act_inv(at.b);
  aq[i] = pack4(vec4i(tap(at, k0, inv), tap(at, k0 + 1u, inv), tap(at, k0 + 2u, inv), tap(at, k0 + 3u, inv)));
}
