/*
 * Vector math for the CPU kernels that wasi-libc only offers one lane at a time. Used by
 * Softmax/LogSoftmax (kernels/normalization/softmax.c) and ReduceLogSumExp (kernels/reduce/reduce.c),
 * where exp is the bulk of the work and a scalar expf per element would cost 4× the vector loop.
 */
#ifndef TESSERA_VMATH_H
#define TESSERA_VMATH_H

#include "tessera.h"

/*
 * exp on four lanes, after Cephes' expf: exp(x) = 2^n · exp(r), n = round(x / ln 2),
 * r = x − n·ln 2 with ln 2 split in two so the reduction is exact, exp(r) by a degree-6
 * polynomial on |r| ≤ ln2/2. About 1 ulp where the result is a normal float. Below ln(FLT_MIN)
 * (−87.34) it returns 0 (expf would give denormals there), so exp(−inf) = 0 exactly, as masked
 * softmax logits need; above 88 it returns exp(88); NaN stays NaN. Softmax and log-sum-exp only
 * call it on x − max ≤ 0.
 *
 * Written for V8's x64 lowering, where f32x4.min/max (NaN-exact) and i32x4.trunc_sat take about
 * eight instructions each: the clamps are pmin/pmax (one instruction; NaN in x passes through as
 * x is the first operand), and n is rounded and turned into an integer by adding 1.5·2^23, whose
 * low mantissa bits then hold n.
 */
static inline v128_t exp_f32x4(v128_t x) {
  const v128_t lo = wasm_f32x4_splat(-87.33654475f), magic = wasm_f32x4_splat(12582912.0f);
  v128_t underflow = wasm_f32x4_lt(x, lo);
  v128_t c = wasm_f32x4_pmax(wasm_f32x4_pmin(x, wasm_f32x4_splat(88.0f)), lo);
  v128_t nm = wasm_f32x4_add(wasm_f32x4_mul(c, wasm_f32x4_splat(1.44269504088896341f)), magic);
  v128_t n = wasm_f32x4_sub(nm, magic);
  v128_t r = wasm_f32x4_sub(c, wasm_f32x4_mul(n, wasm_f32x4_splat(0.693359375f)));
  r = wasm_f32x4_sub(r, wasm_f32x4_mul(n, wasm_f32x4_splat(-2.12194440e-4f)));
  v128_t p = wasm_f32x4_splat(1.9875691500e-4f);
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.3981999507e-3f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(8.3334519073e-3f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(4.1665795894e-2f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.6666665459e-1f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(5.0000001201e-1f));
  p = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_mul(p, r), r), r), wasm_f32x4_splat(1.0f));
  /* 2^n in the exponent field: n is in [−126, 127], so the field stays in [1, 254]. */
  v128_t scale = wasm_i32x4_shl(wasm_i32x4_add(wasm_i32x4_sub(nm, magic), wasm_i32x4_splat(127)), 23);
  return wasm_v128_andnot(wasm_f32x4_mul(p, scale), underflow);
}

/* max/min that return NaN when either operand is NaN, like the WebAssembly instructions (and
 * Math.max in the reference); C's fmaxf would drop the NaN. */
static inline float max_nan(float a, float b) { return __builtin_wasm_max_f32(a, b); }
static inline float min_nan(float a, float b) { return __builtin_wasm_min_f32(a, b); }

#endif
