/*
 * The int8 W8A8 GEMM core of qmatmul.c (the C twin of qgemm.wgsl / qgemv.wgsl):
 *   acc[m][n] = sum_k qa[m][k] * qw[n][k]   (exact int32)
 *   out[m][n] = act(f32(acc) * (s_m * wscale[n]) + bias[n]), s_m the row's activation scale,
 * out row-major [M][N]. QConv has its own core (qconv.c), with pixels in the vector lanes.
 *
 * Layout. A rows are quantized (quantize.h) into scratch as int16 [M][KP], KP = K rounded up to
 * 16, zero tail. W is repacked at load (kernels/quant/cpu.ts) from the bundle's [N][ceil(K/4)]
 * words into blocks of 4 channels, [ceil(N/4)][KP/16][4][16] int8 (zero-padded): one block's 16-k step is 64 contiguous bytes, so
 * a block streams as one sequence instead of 4 rows a whole row apart. wscale and bias are padded
 * to whole blocks.
 *
 * Blocking. A tile is MR rows (2, or 1 for M tails and GEMV) x 4 channels in MR*4 i32x4
 * accumulators. Per 16-k step it loads MR*2 i16x8 of A, and per channel one 16-byte W vector,
 * sign-extended to two i16x8 (shared by the MR rows), then i32x4.dot_i16x8_s (pmaddwd: 8 MACs) with
 * each A half. MR = 2 holds 8 accumulators + 4 A + 2 W vectors: within V8's 15 xmm registers.
 * Channel blocks are the outer loop, so a block's W (4 x KP bytes) stays in L1 while the rows
 * stream past it. The 4 channels' accumulators are reduced by two shuffle-add rounds into one
 * f32x4, so the epilogue runs 4 outputs at a time.
 */
#ifndef TESSERA_QGEMM_CORE_H
#define TESSERA_QGEMM_CORE_H

#include "../matmul/gemm-core.h"
#include "quantize.h"

typedef struct {
  int m, n, kp;
  const int16_t* a;
  const int8_t* w;
  const float* wscale;
  const float* bias;
  const float* row_s; /* per row of A, or NULL: every row has scale s */
  float s;
  float* out;
  Act act;
} QGemmArgs;

INLINE void qgemm_tile(const QGemmArgs* g, const int MR, int m0, int nb) {
  v128_t acc[2][4];
  for (int i = 0; i < MR; i++)
    for (int j = 0; j < 4; j++) acc[i][j] = wasm_i32x4_splat(0);
  const int kp = g->kp;
  const int16_t* a = g->a + m0 * kp;
  const int8_t* w = g->w + nb * 4 * kp;
  for (int k = 0; k < kp; k += 16, w += 64) {
    v128_t al[2], ah[2];
    for (int i = 0; i < MR; i++) {
      al[i] = wasm_v128_load(a + i * kp + k);
      ah[i] = wasm_v128_load(a + i * kp + k + 8);
    }
    for (int j = 0; j < 4; j++) {
      const v128_t wv = wasm_v128_load(w + 16 * j);
      const v128_t wl = wasm_i16x8_extend_low_i8x16(wv), wh = wasm_i16x8_extend_high_i8x16(wv);
      for (int i = 0; i < MR; i++) {
        acc[i][j] = wasm_i32x4_add(acc[i][j], wasm_i32x4_add(wasm_i32x4_dot_i16x8(al[i], wl), wasm_i32x4_dot_i16x8(ah[i], wh)));
      }
    }
  }
  const int n0 = nb * 4, nv = min_i(4, g->n - n0);
  const v128_t ws = wasm_v128_load(g->wscale + n0), bias = wasm_v128_load(g->bias + n0);
  const Act act = g->act;
  for (int i = 0; i < MR; i++) {
    const int m = m0 + i;
    const v128_t sums = wasm_f32x4_convert_i32x4(hsum4_i32(acc[i][0], acc[i][1], acc[i][2], acc[i][3]));
    const v128_t scale = wasm_f32x4_mul(wasm_f32x4_splat(g->row_s ? g->row_s[m] : g->s), ws);
    const v128_t y = act_vec(wasm_f32x4_add(wasm_f32x4_mul(sums, scale), bias), &act);
    store_lanes(g->out + m * g->n + n0, y, nv);
  }
}

static inline void qgemm_core(const QGemmArgs* g) {
  for (int nb = 0; nb * 4 < g->n; nb++) {
    int m0 = 0;
    for (; m0 + 2 <= g->m; m0 += 2) qgemm_tile(g, 2, m0, nb);
    if (m0 < g->m) qgemm_tile(g, 1, m0, nb);
  }
}

#endif
