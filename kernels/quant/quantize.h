/*
 * The activation quantizer of docs/compressed-formats.md, shared by qmatmul.c (through
 * qgemm-core.h) and qconv.c: f32 multiply, f32.nearest (ties to even, as WGSL round and the
 * reference), clamp to ±127, so every backend's integer accumulators match bit for bit.
 * Quantized values are written as int16 (sign-extended once per run, not once per output channel):
 * both cores multiply with i32x4.dot_i16x8_s, whose pairwise products (≤ 2·127²) and int32 sums
 * are exact.
 */
#ifndef TESSERA_QUANTIZE_H
#define TESSERA_QUANTIZE_H

#include "tessera.h"

#define INLINE static inline __attribute__((always_inline))

/* One value, as the vector path: f32.nearest, then a clamp that keeps NaN, then trunc_sat (NaN → 0). */
INLINE int16_t quantize1(float x, float inv) {
  float r = rintf(x * inv);
  r = r < -127.0f ? -127.0f : r > 127.0f ? 127.0f : r;
  return (int16_t)__builtin_wasm_trunc_saturate_s_i32_f32(r);
}

/*
 * Quantizes len floats of x into int16 q, 8 at a time. A tail of a run of 8 or more is one more
 * vector ending at len (it requantizes a few values to the same result): runs as short as a conv
 * row (14, 28 values) would otherwise spend as long on their scalar tail as on the rest.
 */
static inline void quantize_run(int16_t* dst, const float* x, int len, float inv) {
  const v128_t vinv = wasm_f32x4_splat(inv), lo = wasm_f32x4_splat(-127.0f), hi = wasm_f32x4_splat(127.0f);
#define Q4(p) wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_pmin(wasm_f32x4_pmax(wasm_f32x4_nearest(wasm_f32x4_mul(wasm_v128_load(p), vinv)), lo), hi))
#define Q8(i) wasm_v128_store(dst + (i), wasm_i16x8_narrow_i32x4(Q4(x + (i)), Q4(x + (i) + 4)))
  int i = 0;
  for (; i + 8 <= len; i += 8) Q8(i);
  if (i < len && len >= 8) Q8(len - 8);
  else
    for (; i < len; i++) dst[i] = quantize1(x[i], inv);
#undef Q8
#undef Q4
}

/*
 * max |x| over len floats, on the bit patterns: with the sign cleared, non-negative floats order
 * as their int32 bits, and a NaN (above +inf) wins as Math.max lets it in the reference. Integer
 * max is one instruction; f32x4.max is several in V8 (NaN and ±0 fix-ups) and, carried in one
 * register, a latency chain: about 35 µs of a 64x28x28 depthwise conv. Two chains hide pmaxsd's.
 */
static inline float max_abs(const float* x, int len) {
  const v128_t magnitude = wasm_i32x4_splat(0x7fffffff);
  v128_t m0 = wasm_i32x4_splat(0), m1 = m0;
  int i = 0;
  for (; i + 8 <= len; i += 8) {
    m0 = wasm_i32x4_max(m0, wasm_v128_and(wasm_v128_load(x + i), magnitude));
    m1 = wasm_i32x4_max(m1, wasm_v128_and(wasm_v128_load(x + i + 4), magnitude));
  }
  for (; i + 4 <= len; i += 4) m0 = wasm_i32x4_max(m0, wasm_v128_and(wasm_v128_load(x + i), magnitude));
  m0 = wasm_i32x4_max(m0, m1);
  m0 = wasm_i32x4_max(m0, wasm_i32x4_shuffle(m0, m0, 2, 3, 0, 1));
  m0 = wasm_i32x4_max(m0, wasm_i32x4_shuffle(m0, m0, 1, 0, 3, 2));
  int32_t r = wasm_i32x4_extract_lane(m0, 0);
  for (; i < len; i++) {
    int32_t b;
    memcpy(&b, x + i, 4);
    b &= 0x7fffffff;
    r = b > r ? b : r;
  }
  float f;
  memcpy(&f, &r, 4);
  return f;
}

/* The dynamic scale: s = amax / 127, inv = 127 / amax (IEEE f32 division); s = 1, inv = 0 at 0. */
static inline void dynamic_scale(float amax, float* s, float* inv) {
  *s = amax == 0.0f ? 1.0f : amax / 127.0f;
  *inv = amax == 0.0f ? 0.0f : 127.0f / amax;
}

#endif
