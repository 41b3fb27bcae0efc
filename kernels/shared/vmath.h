/*
 * Vector math for the CPU kernels, four lanes at a time where wasi-libc only has scalar functions:
 * exp (two variants), log, tanh, sigmoid and erf after Cephes, shared by the elementwise operators,
 * Softmax/LogSoftmax and ReduceLogSumExp. Accuracy against the double-precision reference is in
 * kernels/elementwise/elementwise.c's header (at most 1.2e-7 relative for exp, log, tanh).
 */
#ifndef TESSERA_VMATH_H
#define TESSERA_VMATH_H

#include "tessera.h"

#define AI static inline __attribute__((always_inline))

AI v128_t f32s(float x) { return wasm_f32x4_splat(x); }
AI v128_t i32s(int32_t x) { return wasm_i32x4_splat(x); }
AI v128_t fmadd(v128_t a, v128_t b, float c) { return wasm_f32x4_add(wasm_f32x4_mul(a, b), f32s(c)); }

/* exp(x - n ln2) for the caller's n = round(x / ln2): ln2 split in two so n ln2 is exact, then
 * Cephes' degree-6 polynomial on |r| <= ln2/2 (about 1 ulp). */
AI v128_t exp_reduced(v128_t x, v128_t n) {
  v128_t r = wasm_f32x4_sub(wasm_f32x4_sub(x, wasm_f32x4_mul(n, f32s(0.693359375f))), wasm_f32x4_mul(n, f32s(-2.12194440e-4f)));
  v128_t p = fmadd(f32s(1.9875691500e-4f), r, 1.3981999507e-3f);
  p = fmadd(p, r, 8.3334519073e-3f);
  p = fmadd(p, r, 4.1665795894e-2f);
  p = fmadd(p, r, 1.6666665459e-1f);
  p = fmadd(p, r, 5.0000001201e-1f);
  return wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_mul(p, wasm_f32x4_mul(r, r)), r), f32s(1.0f));
}

/* exp over the whole range: 2^n is applied as two powers of two so results down into the
 * denormals and up to overflow come out right (the Exp operator, tanh, sigmoid, erf). */
AI v128_t exp_f32x4(v128_t x) {
  x = wasm_f32x4_max(wasm_f32x4_min(x, f32s(89.0f)), f32s(-104.0f));
  v128_t n = wasm_f32x4_nearest(wasm_f32x4_mul(x, f32s(1.44269504088896341f)));
  v128_t p = exp_reduced(x, n);
  v128_t ni = wasm_i32x4_trunc_sat_f32x4(n);
  v128_t h = wasm_i32x4_shr(ni, 1);
  v128_t s1 = wasm_i32x4_shl(wasm_i32x4_add(h, i32s(127)), 23);
  v128_t s2 = wasm_i32x4_shl(wasm_i32x4_add(wasm_i32x4_sub(ni, h), i32s(127)), 23);
  return wasm_f32x4_mul(wasm_f32x4_mul(p, s1), s2);
}

/*
 * exp(x) for x <= 0, as Softmax (x - max) and log-sum-exp need, cheaper than exp_f32x4: below
 * ln(FLT_MIN) (-87.34) it returns 0 rather than denormals, so exp(-inf) = 0 exactly for masked
 * logits; NaN stays NaN. Written for V8's x64 lowering, where f32x4.min/max (NaN-exact) and
 * i32x4.trunc_sat take about eight instructions each: the clamp is pmin/pmax (one instruction;
 * NaN in x passes through as x is the first operand), and n is rounded and turned into an integer
 * by adding 1.5·2^23, whose low mantissa bits then hold n.
 */
AI v128_t exp_nonpos_f32x4(v128_t x) {
  const v128_t lo = f32s(-87.33654475f), magic = f32s(12582912.0f);
  v128_t underflow = wasm_f32x4_lt(x, lo);
  v128_t c = wasm_f32x4_pmax(wasm_f32x4_pmin(x, f32s(88.0f)), lo);
  v128_t nm = wasm_f32x4_add(wasm_f32x4_mul(c, f32s(1.44269504088896341f)), magic);
  v128_t p = exp_reduced(c, wasm_f32x4_sub(nm, magic));
  /* 2^n in the exponent field: n is in [-126, 127], so the field stays in [1, 254]. */
  v128_t scale = wasm_i32x4_shl(wasm_i32x4_add(wasm_i32x4_sub(nm, magic), i32s(127)), 23);
  return wasm_v128_andnot(wasm_f32x4_mul(p, scale), underflow);
}

/* log (Cephes logf): x = m 2^e with m in [sqrt(1/2), sqrt(2)), log(m) by a polynomial in m - 1;
 * denormals are scaled up first; 0, negatives, NaN and +inf are patched in at the end. */
AI v128_t log_f32x4(v128_t x) {
  v128_t tiny = wasm_f32x4_lt(x, f32s(1.17549435e-38f));
  v128_t xs = wasm_v128_bitselect(wasm_f32x4_mul(x, f32s(8388608.0f)), x, tiny);
  v128_t e = wasm_i32x4_add(wasm_v128_and(tiny, i32s(-23)), wasm_i32x4_sub(wasm_u32x4_shr(xs, 23), i32s(126)));
  v128_t m = wasm_v128_or(wasm_v128_and(xs, i32s(0x007fffff)), i32s(0x3f000000));
  v128_t low = wasm_f32x4_lt(m, f32s(0.707106781186547524f));
  e = wasm_i32x4_add(e, low);
  m = wasm_f32x4_sub(wasm_f32x4_add(m, wasm_v128_and(m, low)), f32s(1.0f));
  v128_t fe = wasm_f32x4_convert_i32x4(e);
  v128_t z = wasm_f32x4_mul(m, m);
  v128_t p = fmadd(f32s(7.0376836292e-2f), m, -1.1514610310e-1f);
  p = fmadd(p, m, 1.1676998740e-1f);
  p = fmadd(p, m, -1.2420140846e-1f);
  p = fmadd(p, m, 1.4249322787e-1f);
  p = fmadd(p, m, -1.6668057665e-1f);
  p = fmadd(p, m, 2.0000714765e-1f);
  p = fmadd(p, m, -2.4999993993e-1f);
  p = fmadd(p, m, 3.3333331174e-1f);
  v128_t y = wasm_f32x4_mul(wasm_f32x4_mul(p, m), z);
  y = wasm_f32x4_add(y, wasm_f32x4_mul(fe, f32s(-2.12194440e-4f)));
  y = wasm_f32x4_sub(y, wasm_f32x4_mul(z, f32s(0.5f)));
  v128_t r = wasm_f32x4_add(wasm_f32x4_add(m, y), wasm_f32x4_mul(fe, f32s(0.693359375f)));
  r = wasm_v128_bitselect(f32s(-INFINITY), r, wasm_f32x4_eq(x, f32s(0.0f)));
  r = wasm_v128_bitselect(r, f32s(NAN), wasm_f32x4_ge(x, f32s(0.0f)));
  return wasm_v128_bitselect(x, r, wasm_f32x4_eq(x, f32s(INFINITY)));
}

/* tanh: an odd polynomial below 0.625 (where 1 - 2/(e^2x + 1) would cancel), that formula above;
 * e^2x overflowing to inf gives exactly 1. */
AI v128_t tanh_f32x4(v128_t x) {
  v128_t ax = wasm_f32x4_abs(x);
  v128_t z = wasm_f32x4_mul(x, x);
  v128_t p = fmadd(f32s(-5.70498872745e-3f), z, 2.06390887954e-2f);
  p = fmadd(p, z, -5.37397155531e-2f);
  p = fmadd(p, z, 1.33314422036e-1f);
  p = fmadd(p, z, -3.33332819422e-1f);
  v128_t small = wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_mul(p, z), x), x);
  v128_t e = exp_f32x4(wasm_f32x4_add(ax, ax));
  v128_t big = wasm_f32x4_sub(f32s(1.0f), wasm_f32x4_div(f32s(2.0f), wasm_f32x4_add(e, f32s(1.0f))));
  big = wasm_v128_or(big, wasm_v128_and(x, i32s((int32_t)0x80000000u)));
  return wasm_v128_bitselect(small, big, wasm_f32x4_lt(ax, f32s(0.625f)));
}

AI v128_t sigmoid_f32x4(v128_t x) {
  return wasm_f32x4_div(f32s(1.0f), wasm_f32x4_add(f32s(1.0f), exp_f32x4(wasm_f32x4_neg(x))));
}

/* erf with the reference's formulas (scalar-ops.ts; ERF_FN in kernels/wgsl.ts): Cody's rational below 0.5, the
 * erfc fit of Numerical Recipes (1.2e-7) above, both evaluated and one selected per lane.
 * Computes 1 + erf(x) when `one_plus` (Gelu), taking erfc(-x) directly where x <= -0.5 so tiny
 * results keep their relative precision instead of cancelling against 1. */
AI v128_t erf_or_one_plus_f32x4(v128_t x, const int one_plus) {
  v128_t ax = wasm_f32x4_abs(x);
  v128_t t = wasm_f32x4_mul(x, x);
  v128_t n = fmadd(f32s(0.185777706f), t, 3.16112374f);
  n = fmadd(n, t, 113.864154f);
  n = fmadd(n, t, 377.485238f);
  n = fmadd(n, t, 3209.37759f);
  v128_t d = wasm_f32x4_add(t, f32s(23.6012909f));
  d = fmadd(d, t, 244.024638f);
  d = fmadd(d, t, 1282.61653f);
  d = fmadd(d, t, 2844.23683f);
  v128_t small = wasm_f32x4_div(wasm_f32x4_mul(x, n), d);
  v128_t s = wasm_f32x4_div(f32s(1.0f), fmadd(ax, f32s(0.5f), 1.0f));
  v128_t p = fmadd(s, f32s(0.17087277f), -0.82215223f);
  p = fmadd(p, s, 1.48851587f);
  p = fmadd(p, s, -1.13520398f);
  p = fmadd(p, s, 0.27886807f);
  p = fmadd(p, s, -0.18628806f);
  p = fmadd(p, s, 0.09678418f);
  p = fmadd(p, s, 0.37409196f);
  p = fmadd(p, s, 1.00002368f);
  v128_t arg = wasm_f32x4_add(wasm_f32x4_sub(wasm_f32x4_neg(wasm_f32x4_mul(ax, ax)), f32s(1.26551223f)), wasm_f32x4_mul(s, p));
  v128_t r = wasm_f32x4_mul(s, exp_f32x4(arg));
  const float one = one_plus ? 1.0f : 0.0f;
  v128_t big = wasm_v128_bitselect(wasm_f32x4_sub(f32s(one + 1.0f), r), wasm_f32x4_sub(r, f32s(1.0f - one)), wasm_f32x4_ge(x, f32s(0.0f)));
  if (one_plus) small = wasm_f32x4_add(small, f32s(1.0f));
  return wasm_v128_bitselect(small, big, wasm_f32x4_lt(ax, f32s(0.5f)));
}

/* max/min that return NaN when either operand is NaN, like the WebAssembly instructions (and
 * Math.max in the reference); C's fmaxf would drop the NaN. */
static inline float max_nan(float a, float b) { return __builtin_wasm_max_f32(a, b); }
static inline float min_nan(float a, float b) { return __builtin_wasm_min_f32(a, b); }

#endif
