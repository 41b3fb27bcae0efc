/*
 * BatchNormalization in inference mode, the C twin of batchnorm.wgsl (same parameter block,
 * planned by batchnorm.ts): y = x · a[c] + b[c], with a = scale / sqrt(var + ε) and
 * b = B − mean · a folded at load into one constant [a₀…a_C−1, b₀…b_C−1].
 *
 * Layout: x is [N, C, inner…] contiguous. With spatial dims each (n, c) plane is a contiguous run
 * under one (a, b) pair, splatted; without them (x is [N, C]) the channels are the contiguous run,
 * so a and b are loaded as vectors beside x.
 *
 * Params: [0] element count, [1] C, [2] inner.
 */
#include "tessera.h"

typedef struct {
  uint32_t total, C, inner;
} BatchNormParams;

KERNEL(batch_norm) void batch_norm(const float* x, const float* ab, float* y, const BatchNormParams* u) {
  uint32_t C = u->C, inner = u->inner;
  if (u->total == 0) return;
  if (inner == 1) {
    for (uint32_t n = 0; n < u->total / C; n++) {
      const float* xn = x + n * C;
      float* yn = y + n * C;
      uint32_t c = 0;
      for (; c + 4 <= C; c += 4) {
        wasm_v128_store(yn + c, wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(xn + c), wasm_v128_load(ab + c)), wasm_v128_load(ab + C + c)));
      }
      for (; c < C; c++) yn[c] = xn[c] * ab[c] + ab[C + c];
    }
    return;
  }
  for (uint32_t p = 0; p < u->total / inner; p++) {
    uint32_t c = p % C;
    const float* xp = x + p * inner;
    float* yp = y + p * inner;
    v128_t a = wasm_f32x4_splat(ab[c]), b = wasm_f32x4_splat(ab[C + c]);
    uint32_t j = 0;
    for (; j + 4 <= inner; j += 4) wasm_v128_store(yp + j, wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(xp + j), a), b));
    for (; j < inner; j++) yp[j] = xp[j] * ab[c] + ab[C + c];
  }
}
