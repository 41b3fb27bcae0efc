/*
 * Q4MatMul on the CPU (the C twin of q4matmul.wgsl), float activations (int8 ones: q4matmul-i8.c):
 *   out[m][n] = act(sum_g scale[n][g] * sum_{k in g} (u[n][k] - z[n][g]) * A[m][k] + bias[n])
 *
 * Layout (docs/compressed-formats.md): A row-major [M][K]; W [N][G][4 words], 32 nibbles per group,
 * k ascending from the low nibble, so one group of one channel is one 16-byte vector; scales f32
 * [N][G] (fp16 tables are widened at plan time); zero points [N][ceil(G/8)] words of 8 nibbles.
 *
 * Two paths, chosen by M (`gemv_rows` in the uniforms, set by kernels/int4/cpu.ts):
 *  - M small (batch-1 MLP inference, the case int4 is for): one GEMV per row straight from the
 *    nibbles. A group's 16 bytes split into even/odd nibbles (and, shift), interleave back into k
 *    order (two shuffles), subtract z as i8, widen to f32x4 (i8 -> i16 -> i32 -> f32) and mul+add
 *    against the activations (SIMD128 has no FMA). Four output channels at a time keep four
 *    independent accumulators in flight and share one horizontal reduction (a 4x4 transpose).
 *    The weights stream once from memory at an eighth of the fp32 bytes, which is where int4 wins.
 *  - M larger: unpacking per row would redo the same widening M times, so a block of `nc` output
 *    channels is dequantized once (scale * w, f32) into gemm_core's 8-column panels in scratch and
 *    the fp32 GEMM core (kernels/matmul/gemm-core.h) runs on it; bias and activation ride in its
 *    epilogue. The panel block is sized like the fp32 MatMul's run-time B block (still in L2).
 */
#include "q4-core.h"

INLINE int zero_point(const uint32_t* zp, const Q4U* u, int n, int g) {
  return q4_zero_point(zp, u->has_zp, u->zp_words, n, g);
}

/* One group's 32 signed weights w = u - z as two i8x16: k 0-15 in lo, 16-31 in hi. */
INLINE void unpack_group(const uint32_t* words, int z, v128_t* lo, v128_t* hi) {
  const v128_t raw = wasm_v128_load(words);
  const v128_t even = wasm_v128_and(raw, wasm_i8x16_splat(15));
  const v128_t odd = wasm_u8x16_shr(raw, 4);
  const v128_t zv = wasm_i8x16_splat((int8_t)z);
  *lo = wasm_i8x16_sub(wasm_i8x16_shuffle(even, odd, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23), zv);
  *hi = wasm_i8x16_sub(wasm_i8x16_shuffle(even, odd, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31), zv);
}

/* 16 int8 values (k ascending) as four f32x4. */
INLINE void widen16(v128_t b, v128_t f[4]) {
  const v128_t l = wasm_i16x8_extend_low_i8x16(b), h = wasm_i16x8_extend_high_i8x16(b);
  f[0] = wasm_f32x4_convert_i32x4(wasm_i32x4_extend_low_i16x8(l));
  f[1] = wasm_f32x4_convert_i32x4(wasm_i32x4_extend_high_i16x8(l));
  f[2] = wasm_f32x4_convert_i32x4(wasm_i32x4_extend_low_i16x8(h));
  f[3] = wasm_f32x4_convert_i32x4(wasm_i32x4_extend_high_i16x8(h));
}

/* sum over 16 weights of w * a, lane-wise (4 partial sums). */
INLINE v128_t dot16(v128_t b, const float* a) {
  v128_t f[4];
  widen16(b, f);
  const v128_t s0 = wasm_f32x4_add(wasm_f32x4_mul(f[0], wasm_v128_load(a)), wasm_f32x4_mul(f[1], wasm_v128_load(a + 4)));
  const v128_t s1 = wasm_f32x4_add(wasm_f32x4_mul(f[2], wasm_v128_load(a + 8)), wasm_f32x4_mul(f[3], wasm_v128_load(a + 12)));
  return wasm_f32x4_add(s0, s1);
}

static void gemv_row(const float* arow, const uint32_t* w, const float* scales, const uint32_t* zp, const float* bias, float* orow, const Q4U* u) {
  const int n = (int)u->n, k = (int)u->k, groups = (int)u->groups, full = k / 32;
  /* The last group's activations, zero-padded to 32, so every group runs the same full-width code. */
  float tail[32] __attribute__((aligned(16))) = {0};
  if (full < groups) memcpy(tail, arow + full * 32, (size_t)(k - full * 32) * sizeof(float));
  for (int n0 = 0; n0 < n; n0 += 4) {
    /* Channels past N repeat the last one: computed, never stored, no branch in the loop. */
    int ch[4];
    for (int j = 0; j < 4; j++) ch[j] = min_i(n0 + j, n - 1);
    v128_t acc[4];
    for (int j = 0; j < 4; j++) acc[j] = wasm_f32x4_splat(0.0f);
    for (int g = 0; g < groups; g++) {
      const float* ag = g < full ? arow + g * 32 : tail;
      for (int j = 0; j < 4; j++) {
        v128_t lo, hi;
        unpack_group(w + (ch[j] * groups + g) * 4, zero_point(zp, u, ch[j], g), &lo, &hi);
        const v128_t s = wasm_f32x4_add(dot16(lo, ag), dot16(hi, ag + 16));
        acc[j] = wasm_f32x4_add(acc[j], wasm_f32x4_mul(s, wasm_f32x4_splat(scales[ch[j] * groups + g])));
      }
    }
    v128_t y = hsum4_f32(acc[0], acc[1], acc[2], acc[3]);
    const int nv = min_i(4, n - n0);
    if (u->has_bias) y = wasm_f32x4_add(y, load_lanes(bias + n0, 1, nv));
    store_lanes(orow + n0, act_vec(y, &u->act), nv);
  }
}

/*
 * Channels [n0, n0 + cols) as scale * w in f32 panels [ceil(cols/8)][K][8] (gemm_core's B),
 * channels past the block zero.
 */
static void dequantize_panels(float* dst, const uint32_t* w, const float* scales, const uint32_t* zp, const Q4U* u, int n0, int cols) {
  const int k = (int)u->k, groups = (int)u->groups;
  for (int p = 0; p * 8 < cols; p++) {
    float* panel = dst + p * 8 * k;
    for (int j = 0; j < 8; j++) {
      const int ch = n0 + p * 8 + j;
      if (p * 8 + j >= cols) {
        for (int kk = 0; kk < k; kk++) panel[kk * 8 + j] = 0.0f;
        continue;
      }
      for (int g = 0; g < groups; g++) {
        v128_t b[2], f[8];
        unpack_group(w + (ch * groups + g) * 4, zero_point(zp, u, ch, g), &b[0], &b[1]);
        widen16(b[0], f);
        widen16(b[1], f + 4);
        const v128_t s = wasm_f32x4_splat(scales[ch * groups + g]);
        float v[32] __attribute__((aligned(16)));
        for (int q = 0; q < 8; q++) wasm_v128_store(v + 4 * q, wasm_f32x4_mul(f[q], s));
        const int kn = min_i(32, k - g * 32);
        for (int i = 0; i < kn; i++) panel[(g * 32 + i) * 8 + j] = v[i];
      }
    }
  }
}

KERNEL(q4matmul_f32)
void q4matmul_f32(const float* a, const uint32_t* w, const float* scales, const uint32_t* zp, const float* bias, float* out, float* scratch, const Q4U* u) {
  const int m = (int)u->m, n = (int)u->n, k = (int)u->k;
  if (m < (int)u->gemv_rows) {
    for (int r = 0; r < m; r++) gemv_row(a + r * k, w, scales, zp, bias, out + r * n, u);
    return;
  }
  GemmArgs g = {
    .m = m, .k = k, .a = a, .sam = k, .sak = 1, .a_tile = 4 * k, .ldb = 8, .b_panel = 8 * k,
    .ldo = n, .scm = 0, .scn = 1, .alpha = 1.0f, .beta = 1.0f, .act = u->act,
  };
  for (int n0 = 0; n0 < n; n0 += (int)u->nc) {
    const int cols = min_i((int)u->nc, n - n0);
    dequantize_panels(scratch, w, scales, zp, u, n0, cols);
    g.b = scratch, g.n = cols, g.out = out + n0, g.c = u->has_bias ? bias + n0 : NULL;
    gemm_core(&g);
  }
}
