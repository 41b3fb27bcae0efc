/*
 * Softmax / LogSoftmax along one axis: the C twin of softmax.wgsl, reading its parameter block
 * (planned by softmax.ts). Three passes per row: the max (subtracted so exp cannot overflow), the
 * sum of exp(x − max), then the write: exp(x − max) / sum, or (x − max) − log(sum). Softmax stores
 * the exps in the second pass and divides them in place, so exp runs once per element.
 *
 * Layout: x viewed as [outer, D, inner]; a row is D elements `inner` apart. With inner = 1 (the
 * last axis, and every opset < 13 case) rows are contiguous and 4 lanes take neighbouring
 * elements; otherwise 4 lanes take 4 neighbouring rows (neighbouring columns of the inner axis),
 * which are adjacent in memory at every step of d. Leftover columns go through the same code on
 * splatted values, lane 0 kept. NaN anywhere in a row makes the row NaN, as in the reference.
 *
 * Params: [0] rows (outer · inner), [1] D, [2] inner, [3] lanes (GPU only).
 */
#include "tessera.h"
#include "../shared/vmath.h"

#define INLINE static inline __attribute__((always_inline))

typedef struct {
  uint32_t rows, D, inner, lanes;
} SoftmaxParams;

static float hmax(v128_t v) {
  v = wasm_f32x4_max(v, wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));
  return wasm_f32x4_extract_lane(wasm_f32x4_max(v, wasm_i32x4_shuffle(v, v, 1, 0, 3, 2)), 0);
}

static float hsum(v128_t v) {
  v = wasm_f32x4_add(v, wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));
  return wasm_f32x4_extract_lane(wasm_f32x4_add(v, wasm_i32x4_shuffle(v, v, 1, 0, 3, 2)), 0);
}

/* One contiguous row of n elements. */
INLINE void softmax_row(const float* x, float* y, uint32_t n, int is_log) {
  uint32_t j;
  v128_t vm = wasm_f32x4_splat(-INFINITY);
  for (j = 0; j + 4 <= n; j += 4) vm = wasm_f32x4_max(vm, wasm_v128_load(x + j));
  float m = hmax(vm);
  for (; j < n; j++) m = max_nan(m, x[j]);
  v128_t shift = wasm_f32x4_splat(m);

  v128_t vs = wasm_f32x4_splat(0.0f);
  for (j = 0; j + 4 <= n; j += 4) {
    v128_t e = exp_f32x4(wasm_f32x4_sub(wasm_v128_load(x + j), shift));
    if (!is_log) wasm_v128_store(y + j, e);
    vs = wasm_f32x4_add(vs, e);
  }
  float s = hsum(vs);
  for (; j < n; j++) {
    float e = wasm_f32x4_extract_lane(exp_f32x4(wasm_f32x4_splat(x[j] - m)), 0);
    if (!is_log) y[j] = e;
    s += e;
  }

  if (is_log) {
    v128_t ls = wasm_f32x4_splat(logf(s));
    for (j = 0; j + 4 <= n; j += 4) wasm_v128_store(y + j, wasm_f32x4_sub(wasm_f32x4_sub(wasm_v128_load(x + j), shift), ls));
    for (; j < n; j++) y[j] = (x[j] - m) - logf(s);
  } else {
    v128_t vsum = wasm_f32x4_splat(s);
    for (j = 0; j + 4 <= n; j += 4) wasm_v128_store(y + j, wasm_f32x4_div(wasm_v128_load(y + j), vsum));
    for (; j < n; j++) y[j] /= s;
  }
}

/* Four neighbouring rows whose elements sit `inner` apart (width 4), or one (width 1, splatted). */
INLINE void softmax_columns(const float* x, float* y, uint32_t n, uint32_t inner, int width, int is_log) {
#define LOAD(p) (width == 4 ? wasm_v128_load(p) : wasm_v128_load32_splat(p))
#define STORE(p, v) (width == 4 ? wasm_v128_store((p), (v)) : wasm_v128_store32_lane((p), (v), 0))
  v128_t m = wasm_f32x4_splat(-INFINITY), s = wasm_f32x4_splat(0.0f);
  for (uint32_t d = 0; d < n; d++) m = wasm_f32x4_max(m, LOAD(x + d * inner));
  for (uint32_t d = 0; d < n; d++) {
    v128_t e = exp_f32x4(wasm_f32x4_sub(LOAD(x + d * inner), m));
    if (!is_log) STORE(y + d * inner, e);
    s = wasm_f32x4_add(s, e);
  }
  if (is_log) {
    float l[4];
    wasm_v128_store(l, s);
    for (int i = 0; i < width; i++) l[i] = logf(l[i]);
    v128_t ls = wasm_v128_load(l);
    for (uint32_t d = 0; d < n; d++) STORE(y + d * inner, wasm_f32x4_sub(wasm_f32x4_sub(LOAD(x + d * inner), m), ls));
  } else {
    for (uint32_t d = 0; d < n; d++) STORE(y + d * inner, wasm_f32x4_div(LOAD(y + d * inner), s));
  }
#undef LOAD
#undef STORE
}

INLINE void softmax(const float* x, float* y, const SoftmaxParams* u, int is_log) {
  uint32_t D = u->D, inner = u->inner;
  if (u->rows == 0 || D == 0) return;
  if (inner == 1) {
    for (uint32_t r = 0; r < u->rows; r++) softmax_row(x + r * D, y + r * D, D, is_log);
    return;
  }
  for (uint32_t o = 0; o < u->rows / inner; o++) {
    const float* xo = x + o * D * inner;
    float* yo = y + o * D * inner;
    uint32_t i = 0;
    for (; i + 4 <= inner; i += 4) softmax_columns(xo + i, yo + i, D, inner, 4, is_log);
    for (; i < inner; i++) softmax_columns(xo + i, yo + i, D, inner, 1, is_log);
  }
}

KERNEL(softmax) void softmax_kernel(const float* x, float* y, const SoftmaxParams* u) { softmax(x, y, u, 0); }
KERNEL(log_softmax) void log_softmax_kernel(const float* x, float* y, const SoftmaxParams* u) { softmax(x, y, u, 1); }
