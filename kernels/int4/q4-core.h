/*
 * Reading Q4MatMul's packed weights, shared by q4matmul.c (float activations) and
 * q4matmul-i8.c (int8 activations). Layout (docs/compressed-formats.md): W [N][G][4 words], one
 * group of 32 nibbles per channel is one 16-byte vector, k ascending from the low nibble, so byte
 * b holds k = 2b (low nibble) and k = 2b + 1 (high); zero points [N][ceil(G/8)] words of 8 nibbles.
 */
#ifndef TESSERA_Q4_CORE_H
#define TESSERA_Q4_CORE_H

#include "../matmul/gemm-core.h"

/* The group's zero point: its packed nibble, or 8 for symmetric weights. */
INLINE int q4_zero_point(const uint32_t* zp, uint32_t has_zp, uint32_t zp_words, int n, int g) {
  return has_zp ? (int)((zp[n * (int)zp_words + g / 8] >> (4 * (g % 8))) & 15) : 8;
}

#endif
