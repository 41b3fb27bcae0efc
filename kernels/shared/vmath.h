/*
 * Vector math for the CPU kernels that wasi-libc only offers one lane at a time. Used by
 * Softmax/LogSoftmax (kernels/normalization/softmax.c) and ReduceLogSumExp (kernels/reduce/reduce.c),
 * where exp is the bulk of the work and a scalar expf per element would cost 4× the vector loop.
 */
#ifndef TESSERA_VMATH_H
#define TESSERA_VMATH_H

#include "tessera.h"

/*
 * exp on four lanes, Cephes' expf: exp(x) = 2^n · exp(r), n = round(x / ln 2), r = x − n·ln 2 with
 * ln 2 split in two so the reduction is exact, exp(r) by a degree-6 polynomial on |r| ≤ ln2/2.
 * About 1 ulp where the result is a normal float; near −88.4 the scale 2^n underflows to 0 (expf
 * would give denormals), above 88.3 it overflows to inf; NaN stays NaN (f32x4 min/max propagate
 * it). Softmax and log-sum-exp only ever call it on x − max ≤ 0.
 */
static inline v128_t exp_f32x4(v128_t x) {
  x = wasm_f32x4_min(x, wasm_f32x4_splat(88.3762626647949f));
  x = wasm_f32x4_max(x, wasm_f32x4_splat(-88.3762626647949f));
  v128_t n = wasm_f32x4_floor(wasm_f32x4_add(wasm_f32x4_mul(x, wasm_f32x4_splat(1.44269504088896341f)), wasm_f32x4_splat(0.5f)));
  v128_t r = wasm_f32x4_sub(x, wasm_f32x4_mul(n, wasm_f32x4_splat(0.693359375f)));
  r = wasm_f32x4_sub(r, wasm_f32x4_mul(n, wasm_f32x4_splat(-2.12194440e-4f)));
  v128_t p = wasm_f32x4_splat(1.9875691500e-4f);
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.3981999507e-3f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(8.3334519073e-3f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(4.1665795894e-2f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.6666665459e-1f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(5.0000001201e-1f));
  p = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_mul(p, r), r), r), wasm_f32x4_splat(1.0f));
  // 2^n built in the exponent field; n = −127 (x at the lower clamp) gives +0.
  v128_t scale = wasm_i32x4_shl(wasm_i32x4_add(wasm_i32x4_trunc_sat_f32x4(n), wasm_i32x4_splat(127)), 23);
  return wasm_f32x4_mul(p, scale);
}

/* max/min that return NaN when either operand is NaN, like the WebAssembly instructions (and
 * Math.max in the reference); C's fmaxf would drop the NaN. */
static inline float max_nan(float a, float b) { return __builtin_wasm_max_f32(a, b); }
static inline float min_nan(float a, float b) { return __builtin_wasm_min_f32(a, b); }

#endif
