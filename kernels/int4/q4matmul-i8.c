/*
 * Q4MatMul on the CPU with int8 activations (the C twin of q4gemv-i8.wgsl / q4gemm-i8.wgsl):
 *   q = A's row quantized as QMatMul's (static or per-row dynamic scale s; qgemm-core.h)
 *   acc_g[m][n] = sum_{k in g} (u[n][k] - z[n][g]) * q[m][k]             (exact int32)
 *   out[m][n] = act(f32(sum_g f32(acc_g) * scale[n][g]) * s_m + bias[n])  (g ascending, f32 steps)
 * the float order docs/compressed-formats.md fixes, so this kernel matches the reference bit for bit.
 *
 * Layout: weights as q4-core.h describes them.
 * Each row of A is quantized once into scratch as int16 [M][G*32] (zero-padded past K), its group
 * sums kept, and each group transposed so vector i holds k = 4j + i in lane j: read as u16 lanes,
 * a group's 16 bytes hold k = 4j..4j+3 in lane j's four nibbles, so a mask and shifts give the
 * nibbles u as four i16x8 already in A's order (7 ops, where q4matmul.c's i8 unpacking, a zero-point
 * subtract and four i8 -> i16 extends take about 12), and i32x4.dot_i16x8_s (8 MACs each) does the rest.
 * The zero point is applied per group to the channel sums, acc_g = sum u*q - z * sum q (the same
 * integer). Scratch after the rows: [M] f32x4 accumulators, [M] row scales, [M][G] group sums.
 *
 * Blocking: 4 output channels at a time. For one row (the batch-1 GEMV) each channel's widened
 * group feeds its dot at once; for more rows the 4 channels' groups are widened once (16 i16x8)
 * and every row is run against them, so the unpacking is paid once per weight whatever M is. Per
 * row and group the 4 channels' i32x4 partials are reduced together (gemm-core.h's hsum4_i32) into
 * one i32x4 of acc_g, converted (exact: |acc_g| <= 32*15*127), scaled by the 4 groups' scales and
 * added to the row's f32x4 accumulator (SIMD128 has no FMA, so each step rounds as documented).
 * Channels past N repeat the last one: computed, never stored.
 */
#include "../quant/qgemm-core.h"
#include "q4-core.h"

/*
 * The 32 int16 values of one group, from k order into the order a group's weights come out of
 * their nibbles as u16 lanes (widen_group): vector i (i = 0..3) holds k = 4j + i in lane j.
 */
INLINE void to_nibble_order(int16_t* q) {
  const v128_t v0 = wasm_v128_load(q), v1 = wasm_v128_load(q + 8), v2 = wasm_v128_load(q + 16), v3 = wasm_v128_load(q + 24);
  /* A 4x8 transpose in two rounds of even/odd lane selection. */
  const v128_t e01 = wasm_i16x8_shuffle(v0, v1, 0, 2, 4, 6, 8, 10, 12, 14), o01 = wasm_i16x8_shuffle(v0, v1, 1, 3, 5, 7, 9, 11, 13, 15);
  const v128_t e23 = wasm_i16x8_shuffle(v2, v3, 0, 2, 4, 6, 8, 10, 12, 14), o23 = wasm_i16x8_shuffle(v2, v3, 1, 3, 5, 7, 9, 11, 13, 15);
  wasm_v128_store(q, wasm_i16x8_shuffle(e01, e23, 0, 2, 4, 6, 8, 10, 12, 14));
  wasm_v128_store(q + 8, wasm_i16x8_shuffle(o01, o23, 0, 2, 4, 6, 8, 10, 12, 14));
  wasm_v128_store(q + 16, wasm_i16x8_shuffle(e01, e23, 1, 3, 5, 7, 9, 11, 13, 15));
  wasm_v128_store(q + 24, wasm_i16x8_shuffle(o01, o23, 1, 3, 5, 7, 9, 11, 13, 15));
}

/* Row r of A quantized into q (gk = G*32 values) in nibble order, and its group sums into qsum; returns its scale. */
static float quantize_row(int16_t* q, int32_t* qsum, const float* a, int k, int gk, const Q4I8U* u) {
  float s = u->act_scale, inv = u->act_inv;
  if (u->dynamic) dynamic_scale(max_abs(a, k), &s, &inv);
  quantize_run(q, a, k, inv);
  memset(q + k, 0, (size_t)(gk - k) * 2);
  for (int g = 0; g < gk; g += 32) {
    int32_t sum = 0;
    for (int i = 0; i < 32; i++) sum += q[g + i];
    qsum[g / 32] = sum;
    to_nibble_order(q + g);
  }
  return s;
}

/*
 * Group g of channel n as four i16x8 of unsigned nibbles u, in the order quantize_row leaves A:
 * as u16 lanes, lane j of the group's vector holds k = 4j..4j+3 in its four nibbles, so a mask
 * and shifts give each nibble position as one vector, no extends or shuffles.
 */
INLINE void widen_group(const uint32_t* words, v128_t out[4]) {
  const v128_t raw = wasm_v128_load(words), mask = wasm_i16x8_splat(15);
  out[0] = wasm_v128_and(raw, mask);
  out[1] = wasm_v128_and(wasm_u16x8_shr(raw, 4), mask);
  out[2] = wasm_v128_and(wasm_u16x8_shr(raw, 8), mask);
  out[3] = wasm_u16x8_shr(raw, 12);
}

INLINE v128_t dot32(const v128_t w[4], const v128_t a[4]) {
  return wasm_i32x4_add(wasm_i32x4_add(wasm_i32x4_dot_i16x8(w[0], a[0]), wasm_i32x4_dot_i16x8(w[1], a[1])),
                        wasm_i32x4_add(wasm_i32x4_dot_i16x8(w[2], a[2]), wasm_i32x4_dot_i16x8(w[3], a[3])));
}

/* Σ u·q of one channel's group against a row (4 partial lanes). */
INLINE v128_t group_dot(const uint32_t* words, const int16_t* q) {
  v128_t w[4];
  widen_group(words, w);
  const v128_t a[4] = {wasm_v128_load(q), wasm_v128_load(q + 8), wasm_v128_load(q + 16), wasm_v128_load(q + 24)};
  return dot32(w, a);
}

/*
 * Channels n0..n0+3 (clamped to ch) against all rows. acc_g = Σ u·q - z·Σq: the zero point is
 * applied once per group to the channel sums rather than to every weight. Per group the weights
 * are widened once and every row is run against them, so for M > 1 the widening is paid once per
 * weight; for one row (`m` a constant 1 here) each channel's widening feeds its dot directly.
 */
INLINE void channel_block(const int16_t* qa, const int32_t* qsum, v128_t* acc, const float* row_s, const uint32_t* w, const float* scales,
                          const uint32_t* zp, const float* bias, float* out, const Q4I8U* u, int n0, const int m) {
  const int n = (int)u->n, groups = (int)u->groups, gk = groups * 32;
  const uint32_t* wc[4];
  const float* sc[4];
  int ch[4];
  for (int j = 0; j < 4; j++) {
    ch[j] = min_i(n0 + j, n - 1);
    wc[j] = w + ch[j] * groups * 4;
    sc[j] = scales + ch[j] * groups;
  }
  for (int r = 0; r < m; r++) acc[r] = wasm_f32x4_splat(0.0f);
  for (int g = 0; g < groups; g++) {
    const v128_t scale = wasm_f32x4_make(sc[0][g], sc[1][g], sc[2][g], sc[3][g]);
    const v128_t z = u->has_zp ? wasm_i32x4_make(q4_zero_point(zp, 1, u->zp_words, ch[0], g), q4_zero_point(zp, 1, u->zp_words, ch[1], g),
                                                 q4_zero_point(zp, 1, u->zp_words, ch[2], g), q4_zero_point(zp, 1, u->zp_words, ch[3], g))
                               : wasm_i32x4_splat(8);
    if (m == 1) {
      const int16_t* q = qa + g * 32;
      const v128_t sums = hsum4_i32(group_dot(wc[0] + g * 4, q), group_dot(wc[1] + g * 4, q), group_dot(wc[2] + g * 4, q), group_dot(wc[3] + g * 4, q));
      const v128_t exact = wasm_i32x4_sub(sums, wasm_i32x4_mul(z, wasm_i32x4_splat(qsum[g])));
      acc[0] = wasm_f32x4_add(acc[0], wasm_f32x4_mul(wasm_f32x4_convert_i32x4(exact), scale));
      continue;
    }
    v128_t wv[4][4];
    for (int j = 0; j < 4; j++) widen_group(wc[j] + g * 4, wv[j]);
    for (int r = 0; r < m; r++) {
      const int16_t* q = qa + r * gk + g * 32;
      const v128_t a[4] = {wasm_v128_load(q), wasm_v128_load(q + 8), wasm_v128_load(q + 16), wasm_v128_load(q + 24)};
      const v128_t sums = hsum4_i32(dot32(wv[0], a), dot32(wv[1], a), dot32(wv[2], a), dot32(wv[3], a));
      const v128_t exact = wasm_i32x4_sub(sums, wasm_i32x4_mul(z, wasm_i32x4_splat(qsum[r * groups + g])));
      acc[r] = wasm_f32x4_add(acc[r], wasm_f32x4_mul(wasm_f32x4_convert_i32x4(exact), scale));
    }
  }
  const int nv = min_i(4, n - n0);
  const v128_t b = u->has_bias ? load_lanes(bias + n0, 1, nv) : wasm_f32x4_splat(0.0f);
  for (int r = 0; r < m; r++) {
    const v128_t y = wasm_f32x4_add(wasm_f32x4_mul(acc[r], wasm_f32x4_splat(row_s[r])), b);
    store_lanes(out + r * n + n0, act_vec(y, &u->act), nv);
  }
}

KERNEL(q4matmul_i8)
void q4matmul_i8(const float* a, const uint32_t* w, const float* scales, const uint32_t* zp, const float* bias, float* out, int16_t* scratch, const Q4I8U* u) {
  const int m = (int)u->m, n = (int)u->n, k = (int)u->k, groups = (int)u->groups, gk = groups * 32;
  v128_t* acc = (v128_t*)(scratch + (size_t)m * gk);
  float* row_s = (float*)(acc + m);
  int32_t* qsum = (int32_t*)(row_s + m);
  for (int r = 0; r < m; r++) row_s[r] = quantize_row(scratch + r * gk, qsum + r * groups, a + r * k, k, gk, u);
  for (int n0 = 0; n0 < n; n0 += 4) {
    if (m == 1) channel_block(scratch, qsum, acc, row_s, w, scales, zp, bias, out, u, n0, 1);
    else channel_block(scratch, qsum, acc, row_s, w, scales, zp, bias, out, u, n0, m);
  }
}
