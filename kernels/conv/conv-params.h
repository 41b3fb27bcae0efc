/*
 * The uniform block every CPU conv kernel reads (packed by convCpuParams in kernels/conv/cpu.ts):
 * 2-D geometry (1-D convs run as H = 1), pads already resolved from auto_pad, and the fused
 * activation. Each kernel reads only the fields it needs.
 */
#ifndef TESSERA_CONV_PARAMS_H
#define TESSERA_CONV_PARAMS_H

#include "../matmul/gemm-core.h"

typedef struct {
  uint32_t batch, cin, h, w, cout, ho, wo, kh, kw;
  int32_t sh, sw, ph, pw, dh, dw;
  uint32_t group, cin_g, cout_g;
  /* conv2d: 1x1/stride 1/no pad packs x as it is, else im2col; `nc` output pixels at a time. */
  uint32_t pointwise, nc;
  /* The zero-padded input planes' rows and columns (conv2d: h and w when there are no pads). */
  uint32_t hp, wp;
  Act act;
} ConvU;

#endif
