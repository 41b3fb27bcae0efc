// Shared by qgemm.wgsl and qgemv.wgsl: the float epilogue of one row's 4 outputs,
//   out = activation(f32(acc) * (s * wscale[c]) + bias[c])
// with s the row's activation scale (docs/compressed-formats.md). The integer part is exact, so
// the accumulators match the reference and the wasm kernel bit for bit.
//
// With POOL2X2 (a QConv whose only reader is a 2x2 stride-2 MaxPool; im2row-common.wgsl orders its
// rows by window), store_pooled folds each block's 4 rows into one pooled pixel as MaxPool does:
// from -f32 max, max_nan over the taps in order. The pool's dispatch and 3 of 4 stores go away,
// and the values are the unfused pair's bit for bit. The block's columns are read by constant
// index: indexing an array of the 4 accumulators by a loop variable made SwiftShader keep them in
// memory, about a tenth of the kernel. A block past N computes channels it never stores (their
// reads stay in bounds or are clamped, as WebGPU bounds every access).
//
// With PACK_OUT (a QConv whose only reader is a QConv with a static scale, core/runtime/webgpu/
// packed-fusion.ts) the 4 outputs of a row are quantized with the reader's scale (param 12, its
// inv) and stored as one word: the reader's activations as int8, 4 channels a word, pixel-major
// (NHWC with C in words; N % 4 == 0). The words are those the reader's own quantizing pass would
// have made of the float output, bit for bit, so it gathers them without quantizing again.
//
// Prefix from kernels/quant/gpu.ts: `fn dot4x4` and `fn mac4x4` (dot4I8Packed where the device
// has the WGSL feature packed_4x8_integer_dot_product, shifts otherwise), bindings aq, wq
// (vec4<u32>), wscale, bias, out (f32, or u32 with PACK_OUT), params, fn row_scale(m, b) -> f32,
// fn activation, NAN_FNS, quantize-common.wgsl, fn put_f32 / put_word (the store for out's type;
// the other is never called), const POOL2X2 and const PACK_OUT.
// Params: 0 M, 1 N (per group), 2 KV (vec4 words per row), 3 group, 4 out stride per row,
// 5 per column, 6 per batch item, 7 per group, 8 A stride per (batch, group) in vec4s,
// 9 static s, 10/11 dynamic scale index stride per row / per batch item, 12 PACK_OUT's inv.
// Pooled, M counts GEMM rows and the out strides are the pooled output's (per row: per pooled
// pixel). Packed, the strides count words and 5 is unused.

fn epilogue(acc: i32, s: f32, c: u32) -> f32 {
  return activation(f32(acc) * (s * wscale[c]) + bias[c]);
}

fn store_row(acc: vec4i, m: u32, n0: u32, b: u32, g: u32) {
  let N = p_u(1u);
  if (m >= p_u(0u)) { return; }
  let s = row_scale(m, b);
  let base = b * p_u(6u) + g * p_u(7u) + m * p_u(4u);
  let c = g * N + n0;
  if (PACK_OUT) {
    let inv = p_f(12u);
    put_word(base + n0 / 4u, pack4(vec4i(quantize(epilogue(acc.x, s, c), inv), quantize(epilogue(acc.y, s, c + 1u), inv),
      quantize(epilogue(acc.z, s, c + 2u), inv), quantize(epilogue(acc.w, s, c + 3u), inv))));
    return;
  }
  for (var j = 0u; j < 4u; j++) {
    if (n0 + j >= N) { return; }
    put_f32(base + (n0 + j) * p_u(5u), epilogue(acc[j], s, c + j));
  }
}

// One channel's 2x2 window: the 4 rows' values folded from -f32 max in MaxPool's tap order.
fn pool_window(acc: vec4i, s: vec4f, c: u32) -> f32 {
  return max_nan(max_nan(max_nan(max_nan(-3.4028234e38, epilogue(acc.x, s.x, c)), epilogue(acc.y, s.y, c)),
    epilogue(acc.z, s.z, c)), epilogue(acc.w, s.w, c));
}

fn store_pooled(a0: vec4i, a1: vec4i, a2: vec4i, a3: vec4i, m0: u32, n0: u32, b: u32, g: u32) {
  let N = p_u(1u);
  let base = b * p_u(6u) + g * p_u(7u) + (m0 / 4u) * p_u(4u);
  let s = vec4f(row_scale(m0, b), row_scale(m0 + 1u, b), row_scale(m0 + 2u, b), row_scale(m0 + 3u, b));
  let c = g * N + n0;
  // Column j of the 4x4 block: channel n0 + j over the window's 4 rows.
  let pooled = vec4f(pool_window(vec4i(a0.x, a1.x, a2.x, a3.x), s, c), pool_window(vec4i(a0.y, a1.y, a2.y, a3.y), s, c + 1u),
    pool_window(vec4i(a0.z, a1.z, a2.z, a3.z), s, c + 2u), pool_window(vec4i(a0.w, a1.w, a2.w, a3.w), s, c + 3u));
  if (PACK_OUT) {
    let inv = p_f(12u);
    put_word(base + n0 / 4u, pack4(vec4i(quantize(pooled.x, inv), quantize(pooled.y, inv), quantize(pooled.z, inv), quantize(pooled.w, inv))));
    return;
  }
  for (var j = 0u; j < 4u; j++) {
    if (n0 + j >= N) { return; }
    put_f32(base + (n0 + j) * p_u(5u), pooled[j]);
  }
}
