// Shared by qgemm.wgsl and qgemv.wgsl: the float epilogue of one row's 4 outputs,
//   out = activation(f32(acc) * (s * wscale[c]) + bias[c])
// with s the row's activation scale (docs/compressed-formats.md). The integer part is exact, so
// the accumulators match the reference and the wasm kernel bit for bit.
//
// Prefix from kernels/quant/gpu.ts: `fn dot4x4` and `fn mac4x4` (dot4I8Packed where the device
// has the WGSL feature packed_4x8_integer_dot_product, shifts otherwise), bindings aq, wq
// (vec4<u32>), wscale, bias, out (f32), params, fn row_scale(m, b) -> f32, fn activation.
// Params: 0 M, 1 N (per group), 2 KV (vec4 words per row), 3 group, 4 out stride per row,
// 5 per column, 6 per batch item, 7 per group, 8 A stride per (batch, group) in vec4s,
// 9 static s, 10/11 dynamic scale index stride per row / per batch item.

fn store_row(acc: vec4i, m: u32, n0: u32, b: u32, g: u32) {
  let N = p_u(1u);
  if (m >= p_u(0u)) { return; }
  let s = row_scale(m, b);
  let base = b * p_u(6u) + g * p_u(7u) + m * p_u(4u);
  for (var j = 0u; j < 4u; j++) {
    let n = n0 + j;
    if (n >= N) { return; }
    let c = g * N + n;
    out[base + n * p_u(5u)] = activation(f32(acc[j]) * (s * wscale[c]) + bias[c]);
  }
}
