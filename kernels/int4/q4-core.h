/*
 * Reading Q4MatMul's packed weights, shared by q4matmul.c (float activations) and
 * q4matmul-i8.c (int8 activations), and the two kernels' uniforms, which q4conv.c also fills to
 * run them on its patch rows (kernels/int4/cpu.ts packs both). Layout (docs/compressed-formats.md): W [N][G][4 words], one
 * group of 32 nibbles per channel is one 16-byte vector, k ascending from the low nibble, so byte
 * b holds k = 2b (low nibble) and k = 2b + 1 (high); zero points [N][ceil(G/8)] words of 8 nibbles.
 */
#ifndef TESSERA_Q4_CORE_H
#define TESSERA_Q4_CORE_H

#include "../matmul/gemm-core.h"

/* q4matmul_f32's uniforms; gemv_rows: below this many rows, one GEMV per row (cpu.ts GEMV_ROWS). */
typedef struct {
  uint32_t m, n, k, groups;
  uint32_t has_zp, has_bias, zp_words, nc;
  uint32_t gemv_rows;
  Act act;
} Q4U;

/* q4matmul_i8's uniforms: the static scale and multiplier, or the dynamic flag (per-row scales). */
typedef struct {
  uint32_t m, n, k, groups;
  uint32_t has_zp, has_bias, zp_words;
  float act_scale, act_inv;
  uint32_t dynamic;
  Act act;
} Q4I8U;

void q4matmul_f32(const float* a, const uint32_t* w, const float* scales, const uint32_t* zp, const float* bias, float* out, float* scratch, const Q4U* u);
void q4matmul_i8(const float* a, const uint32_t* w, const float* scales, const uint32_t* zp, const float* bias, float* out, int16_t* scratch, const Q4I8U* u);

/* The group's zero point: its packed nibble, or 8 for symmetric weights. */
INLINE int q4_zero_point(const uint32_t* zp, uint32_t has_zp, uint32_t zp_words, int n, int g) {
  return has_zp ? (int)((zp[n * (int)zp_words + g / 8] >> (4 * (g % 8))) & 15) : 8;
}

#endif
