// Shared by qgemm.wgsl and qgemv.wgsl: the float epilogue of one row's 4 outputs,
//   out = activation(f32(acc) * (s * wscale[c]) + bias[c])
// with s the row's activation scale (docs/compressed-formats.md). The integer part is exact, so
// the accumulators match the reference and the wasm kernel bit for bit.
//
// With POOL2X2 (a QConv whose only reader is a 2x2 stride-2 MaxPool; im2row-common.wgsl orders its
// rows by window), store_pooled folds each block's 4 rows into one pooled pixel as MaxPool does:
// from -f32 max, max_nan over the taps in order. The pool's dispatch and 3 of 4 stores go away,
// and the values are the unfused pair's bit for bit.
//
// Prefix from kernels/quant/gpu.ts: `fn dot4x4` and `fn mac4x4` (dot4I8Packed where the device
// has the WGSL feature packed_4x8_integer_dot_product, shifts otherwise), bindings aq, wq
// (vec4<u32>), wscale, bias, out (f32), params, fn row_scale(m, b) -> f32, fn activation,
// NAN_FNS and const POOL2X2.
// Params: 0 M, 1 N (per group), 2 KV (vec4 words per row), 3 group, 4 out stride per row,
// 5 per column, 6 per batch item, 7 per group, 8 A stride per (batch, group) in vec4s,
// 9 static s, 10/11 dynamic scale index stride per row / per batch item. Pooled, M counts GEMM
// rows and the out strides are the pooled output's (per row: per pooled pixel).

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

fn store_pooled(acc: array<vec4i, 4>, m0: u32, n0: u32, b: u32, g: u32) {
  let N = p_u(1u);
  let base = b * p_u(6u) + g * p_u(7u) + (m0 / 4u) * p_u(4u);
  for (var j = 0u; j < 4u; j++) {
    let n = n0 + j;
    if (n >= N) { return; }
    let c = g * N + n;
    var pooled = -3.4028234e38;
    for (var r = 0u; r < 4u; r++) {
      pooled = max_nan(pooled, activation(f32(acc[r][j]) * (row_scale(m0 + r, b) * wscale[c]) + bias[c]));
    }
    out[base + n * p_u(5u)] = pooled;
  }
}
