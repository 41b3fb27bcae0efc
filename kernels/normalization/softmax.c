/*
 * Softmax / LogSoftmax along one axis: the C twin of softmax.wgsl, reading its parameter block
 * (planned by softmax.ts). Three passes per row: the max (subtracted so exp cannot overflow), the
 * sum of exp(x − max), then the write: exp(x − max) / sum, or (x − max) − log(sum). Softmax stores
 * the exps in the second pass and scales them in place by 1/sum, so exp runs once per element.
 * exp is the cost: 1024 rows × 1000 take ≈ 2.3 ns per element (V8, 2-core shared EPYC), ≈ 1.5 of
 * them in the vector exp.
 *
 * Layout: x viewed as [outer, D, inner]; a row is D elements `inner` apart. With inner = 1 (the
 * last axis, and every opset < 13 case) rows are contiguous and 4 lanes take neighbouring
 * elements; otherwise lanes take neighbouring rows (neighbouring columns of the inner axis), up
 * to CHUNK of them per pass so each step of d reads one contiguous stretch. Leftover columns go
 * through the same code on splatted values, lane 0 kept. NaN anywhere in a row makes the row NaN,
 * as in the reference.
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

/* One contiguous row of n elements. The max takes 4 vectors in flight: V8's NaN-exact f32x4.max
 * is a ~9-cycle dependency chain. */
INLINE void softmax_row(const float* x, float* y, uint32_t n, int is_log) {
  uint32_t j = 0;
  v128_t vm[4];
  for (int b = 0; b < 4; b++) vm[b] = wasm_f32x4_splat(-INFINITY);
  for (; j + 16 <= n; j += 16) {
    for (int b = 0; b < 4; b++) vm[b] = wasm_f32x4_max(vm[b], wasm_v128_load(x + j + 4 * b));
  }
  for (; j + 4 <= n; j += 4) vm[0] = wasm_f32x4_max(vm[0], wasm_v128_load(x + j));
  float m = hmax(wasm_f32x4_max(wasm_f32x4_max(vm[0], vm[1]), wasm_f32x4_max(vm[2], vm[3])));
  for (; j < n; j++) m = max_nan(m, x[j]);
  v128_t shift = wasm_f32x4_splat(m);

  v128_t vs = wasm_f32x4_splat(0.0f);
  for (j = 0; j + 4 <= n; j += 4) {
    v128_t e = exp_nonpos_f32x4(wasm_f32x4_sub(wasm_v128_load(x + j), shift));
    if (!is_log) wasm_v128_store(y + j, e);
    vs = wasm_f32x4_add(vs, e);
  }
  float s = hsum(vs);
  for (; j < n; j++) {
    float e = wasm_f32x4_extract_lane(exp_nonpos_f32x4(wasm_f32x4_splat(x[j] - m)), 0);
    if (!is_log) y[j] = e;
    s += e;
  }

  if (is_log) {
    float ls = logf(s);
    v128_t vls = wasm_f32x4_splat(ls);
    for (j = 0; j + 4 <= n; j += 4) wasm_v128_store(y + j, wasm_f32x4_sub(wasm_f32x4_sub(wasm_v128_load(x + j), shift), vls));
    for (; j < n; j++) y[j] = (x[j] - m) - ls;
  } else {
    /* A multiply by 1/sum: within an ulp of dividing, and a fraction of a divide's cost. */
    float r = 1.0f / s;
    v128_t vr = wasm_f32x4_splat(r);
    for (j = 0; j + 4 <= n; j += 4) wasm_v128_store(y + j, wasm_f32x4_mul(wasm_v128_load(y + j), vr));
    for (; j < n; j++) y[j] *= r;
  }
}

/* Columns per pass over a strided axis: the per-column max and sum (1 KiB each) stay in L1. */
#define CHUNK 256

/*
 * `width` neighbouring rows of a strided axis (their elements `inner` apart, each d one contiguous
 * stretch of the input, read in memory order), width a multiple of 4 up to CHUNK; or, with
 * `splat`, one row, its values splatted and lane 0 stored.
 */
INLINE void softmax_columns(const float* x, float* y, uint32_t n, uint32_t inner, uint32_t width, int splat, int is_log) {
#define LOAD(p) (splat ? wasm_v128_load32_splat(p) : wasm_v128_load(p))
#define STORE(p, v) (splat ? wasm_v128_store32_lane((p), (v), 0) : wasm_v128_store((p), (v)))
  uint32_t nv = splat ? 1 : width / 4;
  v128_t m[CHUNK / 4], s[CHUNK / 4];
  for (uint32_t b = 0; b < nv; b++) {
    m[b] = wasm_f32x4_splat(-INFINITY);
    s[b] = wasm_f32x4_splat(0.0f);
  }
  for (uint32_t d = 0; d < n; d++) {
    for (uint32_t b = 0; b < nv; b++) m[b] = wasm_f32x4_max(m[b], LOAD(x + d * inner + 4 * b));
  }
  for (uint32_t d = 0; d < n; d++) {
    for (uint32_t b = 0; b < nv; b++) {
      v128_t e = exp_nonpos_f32x4(wasm_f32x4_sub(LOAD(x + d * inner + 4 * b), m[b]));
      if (!is_log) STORE(y + d * inner + 4 * b, e);
      s[b] = wasm_f32x4_add(s[b], e);
    }
  }
  /* Now s[b] becomes what the write subtracts (log) or multiplies by (1/sum). */
  for (uint32_t b = 0; b < nv; b++) {
    float l[4];
    wasm_v128_store(l, s[b]);
    for (int i = 0; i < 4; i++) l[i] = is_log ? logf(l[i]) : 1.0f / l[i];
    s[b] = wasm_v128_load(l);
  }
  for (uint32_t d = 0; d < n; d++) {
    for (uint32_t b = 0; b < nv; b++) {
      float* yp = y + d * inner + 4 * b;
      if (is_log) STORE(yp, wasm_f32x4_sub(wasm_f32x4_sub(LOAD(x + d * inner + 4 * b), m[b]), s[b]));
      else STORE(yp, wasm_f32x4_mul(LOAD(yp), s[b]));
    }
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
  uint32_t inner4 = inner / 4 * 4;
  for (uint32_t o = 0; o < u->rows / inner; o++) {
    const float* xo = x + o * D * inner;
    float* yo = y + o * D * inner;
    for (uint32_t i = 0; i < inner4; i += CHUNK) softmax_columns(xo + i, yo + i, D, inner, (uint32_t)min_i(CHUNK, inner4 - i), 0, is_log);
    for (uint32_t i = inner4; i < inner; i++) softmax_columns(xo + i, yo + i, D, inner, 1, 1, is_log);
  }
}

KERNEL(softmax) void softmax_kernel(const float* x, float* y, const SoftmaxParams* u) { softmax(x, y, u, 0); }
KERNEL(log_softmax) void log_softmax_kernel(const float* x, float* y, const SoftmaxParams* u) { softmax(x, y, u, 1); }
