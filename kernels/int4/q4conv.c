/*
 * Q4Conv on the CPU for float activations and the per-row dynamic int8 scale (a static scale
 * takes QConv's conv core, qconv.c's qconv_q4; kernels/int4/q4conv.ts says why), the C twin of
 * im2row-f32.wgsl + Q4MatMul's WGSL kernels, NCHW, group 1:
 *   rows[p][k]   = tap k of output pixel p of image b (ONNX weight order (c, kh, kw), padding 0)
 *   y[p][n]      = Q4MatMul(rows, W)[p][n], bias and activation fused (q4matmul.c / q4matmul-i8.c)
 *   out[b][n][p] = y[p][n]
 *
 * Why no conv core of its own: the int4 math (unpacking nibbles, zero points, group scales, the
 * GEMV and dequantize-then-GEMM paths, int8 activations) lives once, in the Q4MatMul kernels,
 * and this file only feeds them rows; the uniforms carry their struct (q4-core.h), filled by
 * kernels/int4/cpu.ts as for Q4MatMul, with m set here per chunk. The gather costs Kc values per
 * pixel against Kc·Cout multiply-adds, small next to the product for any layer worth int4.
 *
 * Per image, pixels run in chunks of `chunk` rows (about 64 KiB of patch values, cpu.ts), so the
 * rows stay in cache from the gather to the product and the scratch does not grow with the image.
 * Each chunk's [chunk][N] result is transposed into the NCHW output channel by channel (contiguous
 * stores). Scratch: the chunk's rows, its result, then the q4 kernel's own, each 16-byte aligned.
 */
#include "q4-core.h"

typedef struct {
  uint32_t batch, cin, h, w, ho, wo, kh, kw;
  int32_t sh, sw, ph, pw, dh, dw;
  uint32_t chunk, int8;
  /* Both start m, n, k, groups; m is the chunk's row count, set per call. */
  union {
    Q4U f;
    Q4I8U i;
  } mm;
} Q4ConvU;

/* The patch rows of output pixels [p0, p0 + count) of one image. */
static void patch_rows(float* rows, const float* x, const Q4ConvU* u, int p0, int count) {
  const int h = (int)u->h, w = (int)u->w, wo = (int)u->wo, kh = (int)u->kh, kw = (int)u->kw, k = (int)u->mm.f.k;
  for (int i = 0; i < count; i++) {
    const int oy = (p0 + i) / wo, ox = (p0 + i) % wo;
    float* row = rows + i * k;
    for (int c = 0; c < (int)u->cin; c++) {
      for (int ky = 0; ky < kh; ky++) {
        float* d = row + (c * kh + ky) * kw;
        const int iy = oy * u->sh - u->ph + ky * u->dh;
        if (iy < 0 || iy >= h) {
          for (int kx = 0; kx < kw; kx++) d[kx] = 0.0f;
          continue;
        }
        const float* src = x + (c * h + iy) * w;
        for (int kx = 0; kx < kw; kx++) {
          const int ix = ox * u->sw - u->pw + kx * u->dw;
          d[kx] = ix >= 0 && ix < w ? src[ix] : 0.0f;
        }
      }
    }
  }
}

INLINE int align4(int n) { return (n + 3) & ~3; }

KERNEL(q4conv)
void q4conv(const float* x, const uint32_t* w, const float* scales, const uint32_t* zp, const float* bias, float* out, float* scratch, const Q4ConvU* u) {
  const int n = (int)u->mm.f.n, k = (int)u->mm.f.k, chunk = (int)u->chunk;
  const int pixels = (int)(u->ho * u->wo), image = (int)(u->cin * u->h * u->w);
  float* rows = scratch;
  float* y = rows + align4(chunk * k);
  float* inner = y + align4(chunk * n);
  for (int b = 0; b < (int)u->batch; b++) {
    for (int p0 = 0; p0 < pixels; p0 += chunk) {
      const int count = min_i(chunk, pixels - p0);
      patch_rows(rows, x + b * image, u, p0, count);
      if (u->int8) {
        Q4I8U mm = u->mm.i;
        mm.m = (uint32_t)count;
        q4matmul_i8(rows, w, scales, zp, bias, y, (int16_t*)inner, &mm);
      } else {
        Q4U mm = u->mm.f;
        mm.m = (uint32_t)count;
        q4matmul_f32(rows, w, scales, zp, bias, y, inner, &mm);
      }
      float* dst = out + (size_t)b * n * pixels + p0;
      for (int c = 0; c < n; c++)
        for (int i = 0; i < count; i++) dst[c * pixels + i] = y[i * n + c];
    }
  }
}
