// Shared by q4gemv-i8.wgsl and q4gemm-i8.wgsl (Q4MatMul, int8 activations): turning a group of
// nibbles into packed int8 words, and the float epilogue (docs/compressed-formats.md):
//   acc_g = sum_{k in g} (u - z) * q   (exact int32, from kernels/quant's dot4x4 / mac4x4)
//   t = sum_g f32(acc_g) * scale[n][g], g ascending;   out = activation(t * s + bias[n])
//
// Why bytes and not nibbles: the dot primitives (dot4I8Packed where the device has it) take 4 int8
// per u32, k ascending from the low byte, as quantize-rows.wgsl packs A. One group of one channel is
// a vec4u of 8 nibbles per word; per word the low 16 bits (k 0..3) and the high 16 (k 4..7) are
// spread to one nibble per byte with two shift-or-mask steps, then u - z is taken in all four bytes
// at once: (b | 0x80) - z never borrows across bytes (0x80 + u - z >= 0x71), and flipping bit 7 back
// leaves u - z in [-15, 15] as a signed byte.
//
// Prefix from kernels/int4/gpu.ts: dot4x4 / mac4x4, bindings aq (vec4u: 8 words per group of a
// row), w (vec4u), scales (f32), out, params (0 M, 1 N, 2 G, ...), fn zero_point(n, g) -> u32,
// fn load_bias(n) -> f32, fn row_scale(m) -> f32, fn out_index(m, n) -> u32 (row-major, or NCHW
// for Q4Conv), fn activation(x) -> f32.

// A group's 32 weights as 8 int8 words: `lo` holds words 0..3 (k 0..15), `hi` words 4..7.
struct GroupBytes {
  lo: vec4u,
  hi: vec4u,
}

fn spread_nibbles(t: vec4u) -> vec4u {
  let b = (t | (t << vec4u(8u))) & vec4u(0x00ff00ffu);
  return (b | (b << vec4u(4u))) & vec4u(0x0f0f0f0fu);
}

fn group_bytes(n: u32, g: u32) -> GroupBytes {
  let v = w[n * p_u(2u) + g];
  let z = vec4u(zero_point(n, g) * 0x01010101u);
  let low = ((spread_nibbles(v & vec4u(0xffffu)) | vec4u(0x80808080u)) - z) ^ vec4u(0x80808080u);
  let high = ((spread_nibbles(v >> vec4u(16u)) | vec4u(0x80808080u)) - z) ^ vec4u(0x80808080u);
  return GroupBytes(vec4u(low.x, high.x, low.y, high.y), vec4u(low.z, high.z, low.w, high.w));
}

// The 4 channels' scales of group g.
fn group_scales(ns: vec4u, g: u32) -> vec4f {
  let G = p_u(2u);
  return vec4f(scales[ns.x * G + g], scales[ns.y * G + g], scales[ns.z * G + g], scales[ns.w * G + g]);
}

fn store4(t: vec4f, m: u32, n0: u32) {
  let M = p_u(0u);
  let N = p_u(1u);
  if (m >= M) { return; }
  let s = row_scale(m);
  for (var j = 0u; j < 4u; j++) {
    let n = n0 + j;
    if (n >= N) { return; }
    out[out_index(m, n)] = activation(t[j] * s + load_bias(n));
  }
}
