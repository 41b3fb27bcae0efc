/*
 * SparseQMatMul on the CPU: int8 W8A8 with 2:4 structured sparse weights,
 *   acc[m][n] = sum over kept (g, i) of qa[m][4g + i] * w[n][g][i]   (exact int32)
 *   out[m][n] = act(f32(acc) * (s_m * wscale[n]) + bias[n])
 * with A quantized by quantize.h (QMatMul's quantizer), so the accumulators match
 * the reference and the WebGPU kernel bit for bit.
 *
 * Why lanes are output channels. Gathering A by each channel's indices (a swizzle per channel
 * and 8 kept values) measured slower than dense int8: every swizzle is three instructions in V8
 * and serves one dot. Instead, per row of A and per group g, the 6 possible kept pairs
 * (a[i0], a[i1]) are tabulated once into 16 bytes, T[g] (a constant shuffle of the group's 4
 * bytes). A group's code then only selects a pair: one swizzle of T[g] by the 8 channels' pair
 * numbers gathers 16 bytes, the A operands of 8 channels, with each channel's two values side by
 * side as i32x4.dot_i16x8_s pairs them. Lanes being channels, no horizontal sums are needed.
 *
 * Layout (kernels/sparse/cpu-layout.ts packs it at load from the bundle's values and indices):
 * channels in blocks of 8, then groups (an even count, G2), each (block, group) 32 bytes: 16 swizzle
 * indices (channel j: 2p, 2p+1, p the pair number, PAIRS order) then 16 int8 values (channel j:
 * v0, v1). Padding channels and groups have pair 0 and values 0. wscale and bias are padded to
 * whole blocks. Scratch: one int16 row (the quantizer's output), then T for every row of A
 * ([M][G2][16] int8), then the M row scales.
 *
 * Blocking. A tile is one block of 8 channels x MR rows of A (4, or fewer at the tail): per group
 * the 32 layout bytes are loaded and the values sign-extended once, then each row swizzles its
 * T[g] and does two dots, so the layout streams once per MR rows. MR = 1 (batch-1 inference) splits
 * the groups into two interleaved sums, so the adds do not serialise on 2 accumulators.
 */
#include "../matmul/gemm-core.h"
#include "../quant/quantize.h"

typedef struct {
  uint32_t m, n, k, groups;
  float act_scale, act_inv;
  uint32_t dynamic;
  Act act;
} SparseU;

/* T[g] for the groups of one quantized row: lanes (2p, 2p+1) = (a[4g + i0], a[4g + i1]) of pair p. */
static void pair_tables(int8_t* t, const int16_t* q, int groups) {
  for (int g = 0; g < groups; g += 2, q += 8, t += 32) {
    const v128_t b = wasm_i8x16_narrow_i16x8(wasm_v128_load(q), wasm_v128_load(q));
    wasm_v128_store(t, wasm_i8x16_shuffle(b, b, 0, 1, 0, 2, 0, 3, 1, 2, 1, 3, 2, 3, 0, 0, 0, 0));
    wasm_v128_store(t + 16, wasm_i8x16_shuffle(b, b, 4, 5, 4, 6, 4, 7, 5, 6, 5, 7, 6, 7, 4, 4, 4, 4));
  }
}

INLINE void sparse_tile(const SparseU* u, const int8_t* layout, const int8_t* tables, const float* row_s, const float* wscale,
                        const float* bias, float* out, const int MR, int m0, int block) {
  const int P = MR <= 2 ? 2 : 1, groups = (int)u->groups;
  v128_t acc[2][4][2];
  for (int p = 0; p < P; p++)
    for (int i = 0; i < MR; i++) acc[p][i][0] = acc[p][i][1] = wasm_i32x4_splat(0);
  const int8_t* l = layout + (size_t)block * groups * 48;
  const int8_t* t = tables + (size_t)m0 * groups * 16;
  for (int g = 0; g < groups; g += P) {
    for (int p = 0; p < P; p++, l += 48) {
      const v128_t idx = wasm_v128_load(l), vl = wasm_v128_load(l + 16), vh = wasm_v128_load(l + 32);
      for (int i = 0; i < MR; i++) {
        const v128_t x = wasm_i8x16_swizzle(wasm_v128_load(t + ((size_t)i * groups + g + p) * 16), idx);
        acc[p][i][0] = wasm_i32x4_add(acc[p][i][0], wasm_i32x4_dot_i16x8(wasm_i16x8_extend_low_i8x16(x), vl));
        acc[p][i][1] = wasm_i32x4_add(acc[p][i][1], wasm_i32x4_dot_i16x8(wasm_i16x8_extend_high_i8x16(x), vh));
      }
    }
  }
  const int n0 = block * 8, n = (int)u->n, nv = min_i(8, n - n0);
  const Act act = u->act;
  for (int i = 0; i < MR; i++) {
    const v128_t s = wasm_f32x4_splat(row_s[m0 + i]);
    float* o = out + (size_t)(m0 + i) * n + n0;
    for (int h = 0; h < 2; h++) {
      const v128_t sum = P == 2 ? wasm_i32x4_add(acc[0][i][h], acc[1][i][h]) : acc[0][i][h];
      const v128_t scale = wasm_f32x4_mul(s, wasm_v128_load(wscale + n0 + 4 * h));
      const v128_t y = act_vec(wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_convert_i32x4(sum), scale), wasm_v128_load(bias + n0 + 4 * h)), &act);
      store_lanes(o + 4 * h, y, nv - 4 * h);
    }
  }
}

KERNEL(sparse_qmatmul_i8)
void sparse_qmatmul_i8(const float* a, const int8_t* layout, const float* wscale, const float* bias, float* out, int16_t* scratch,
                       const SparseU* u) {
  const int m = (int)u->m, k = (int)u->k, groups = (int)u->groups, kp = groups * 4;
  int8_t* tables = (int8_t*)(scratch + kp);
  float* row_s = (float*)(tables + (size_t)m * groups * 16);
  for (int r = 0; r < m; r++) {
    float s = u->act_scale, inv = u->act_inv;
    if (u->dynamic) dynamic_scale(max_abs(a + (size_t)r * k, k), &s, &inv);
    row_s[r] = s;
    quantize_run(scratch, a + (size_t)r * k, k, inv);
    memset(scratch + k, 0, (size_t)(kp - k) * 2);
    pair_tables(tables + (size_t)r * groups * 16, scratch, groups);
  }
  for (int block = 0; block * 8 < (int)u->n; block++) {
    int m0 = 0;
    for (; m0 + 4 <= m; m0 += 4) sparse_tile(u, layout, tables, row_s, wscale, bias, out, 4, m0, block);
    switch (m - m0) {
      case 3: sparse_tile(u, layout, tables, row_s, wscale, bias, out, 3, m0, block); break;
      case 2: sparse_tile(u, layout, tables, row_s, wscale, bias, out, 2, m0, block); break;
      case 1: sparse_tile(u, layout, tables, row_s, wscale, bias, out, 1, m0, block); break;
      default: break;
    }
  }
}
