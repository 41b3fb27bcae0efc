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
  /* conv2d: variant 1 = 1x1/stride 1/no pad packs x as it is, else im2col; `nc` output pixels
   * at a time.
   * conv_winograd: variant = the axis the 3 taps run along (0 W, 1 H); `nc` tiles at a time. */
  uint32_t variant, nc;
  /* The zero-padded input planes' rows and columns (conv2d: h and w when there are no pads). */
  uint32_t hp, wp;
  Act act;
} ConvU;

/*
 * Copies a group's cin_g input planes into dst zero-padded to hp x wp: ph rows above and pw columns
 * left of the input, zeros everywhere else (including any rows/columns past the conv's end pads).
 */
static inline void pad_planes(float* dst, const float* x, const ConvU* u) {
  const int h = (int)u->h, w = (int)u->w, hp = (int)u->hp, wp = (int)u->wp, ph = u->ph, pw = u->pw;
  for (int ci = 0; ci < (int)u->cin_g; ci++) {
    for (int r = 0; r < hp; r++) {
      float* d = dst + (ci * hp + r) * wp;
      const int ih = r - ph;
      if (ih < 0 || ih >= h) {
        memset(d, 0, (size_t)wp * 4);
        continue;
      }
      memset(d, 0, (size_t)pw * 4);
      memcpy(d + pw, x + (ci * h + ih) * w, (size_t)w * 4);
      memset(d + pw + w, 0, (size_t)(wp - pw - w) * 4);
    }
  }
}

/*
 * Exports the conv kernel NAME(x, w, bias, res, out, scratch, u) twice: NAME_f32 without a residual
 * (res NULL) and NAME_residual_f32 with one, added before the activation (a residual Add the
 * planner fused into the conv, core/runtime/fuse-residual.ts). Two entry points because a binding
 * cannot be NULL; kernels/conv/cpu.ts picks one.
 */
#define CONV_ENTRY_POINTS(NAME)                                                                              \
  KERNEL(NAME##_f32)                                                                                         \
  void NAME##_f32(const float* x, const float* w, const float* bias, float* out, float* scratch, const ConvU* u) { \
    NAME(x, w, bias, NULL, out, scratch, u);                                                                 \
  }                                                                                                          \
  KERNEL(NAME##_residual_f32)                                                                                \
  void NAME##_residual_f32(const float* x, const float* w, const float* bias, const float* res, float* out,   \
                           float* scratch, const ConvU* u) {                                                 \
    NAME(x, w, bias, res, out, scratch, u);                                                                  \
  }

#endif
