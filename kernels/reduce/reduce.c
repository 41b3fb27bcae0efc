/*
 * Reductions: y[row] = final(fold of map(x) over the row) for Reduce* and Global*Pool
 * (reduce_fold), and the index of the best element for ArgMax/ArgMin (reduce_arg). The C twin of
 * reduce.wgsl, planned by the same reduce-program.ts and reading the same uniform block.
 *
 * Layout: the input viewed as coalesced kept groups × reduced groups (size-1 axes dropped,
 * neighbouring axes of the same kind merged). The group with stride 1 decides the loop shape:
 * - reduced ("rows": last-axis reductions, Global*Pool, LayerNorm-like shapes): an output's
 *   elements are contiguous runs; lanes fold neighbouring elements, merged at the end;
 * - kept ("columns": reducing a leading axis, e.g. axis 0 of [N, K]): neighbouring outputs read
 *   neighbouring elements, so lanes are outputs; up to CHUNK columns are folded at once, one
 *   reduced position (a contiguous stretch of the input) after another, accumulators in L1;
 * - neither (every dim is 1, or nothing is reduced): one element per output.
 * Leftovers (a run's last < 4 elements, a row's last < 4 columns) run the same vector code on
 * splatted values (every lane equal, lane 0 kept), so each reduction is written once, as vector ops.
 *
 * The walk (map and combine), the final step and the element type come in the uniforms; the
 * exported kernels switch on them once and call loops instantiated per case (always_inline with
 * constant arguments), so inner loops carry no branches on the reduction kind.
 *
 * Params: [0] rows, [1] row length, [2] lanes (GPU only), [3] kept groups, [4] reduced groups,
 *         [5] walk (reduce_fold) / 1 for ArgMax (reduce_arg), [6] final / select_last_index,
 *         [7] 1 for i32 elements, then 8 kept dims, 8 kept strides, 8 reduced dims, 8 reduced
 *         strides (in elements).
 */
#include "tessera.h"
#include "../shared/vmath.h"

#define MAX_GROUPS 8
#define INLINE static inline __attribute__((always_inline))

typedef struct {
  uint32_t rows, len, lanes, nkept, nred, op, op2, is_int;
  uint32_t kept_dims[MAX_GROUPS], kept_strides[MAX_GROUPS];
  uint32_t red_dims[MAX_GROUPS], red_strides[MAX_GROUPS];
} ReduceParams;

/* Walks and finals; the numbering is CPU_WALK / CPU_FINAL in reducers.ts. */
enum { W_SUM, W_MAX, W_MIN, W_PROD, W_ABS_SUM, W_SQUARE_SUM, W_EXP_SUM };
enum { F_NONE, F_MEAN, F_SQRT, F_LOG, F_LOG_SUM_EXP };
enum { ROWS, SPLAT };

static inline float as_f32(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static inline uint32_t as_u32(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }

/* Offset of position i of the groups dims[0..n) (the last fastest), in elements. */
static uint32_t offset_of(uint32_t i, const uint32_t* dims, const uint32_t* strides, uint32_t n) {
  uint32_t off = 0;
  for (int d = (int)n - 1; d >= 0; d--) {
    off += (i % dims[d]) * strides[d];
    i /= dims[d];
  }
  return off;
}

INLINE v128_t identity(int w, int is_int) {
  switch (w) {
    case W_MAX: return is_int ? wasm_i32x4_splat(INT32_MIN) : wasm_f32x4_splat(-INFINITY);
    case W_MIN: return is_int ? wasm_i32x4_splat(INT32_MAX) : wasm_f32x4_splat(INFINITY);
    case W_PROD: return is_int ? wasm_i32x4_splat(1) : wasm_f32x4_splat(1.0f);
    default: return wasm_i32x4_splat(0); /* 0 and 0.0f have the same bits */
  }
}

/* One element's contribution; `shift` is the row maximum for log-sum-exp. i32 arithmetic wraps,
 * as the reference's `| 0` and Math.imul do. */
INLINE v128_t map(int w, int is_int, v128_t v, v128_t shift) {
  switch (w) {
    case W_ABS_SUM: return is_int ? wasm_i32x4_abs(v) : wasm_f32x4_abs(v);
    case W_SQUARE_SUM: return is_int ? wasm_i32x4_mul(v, v) : wasm_f32x4_mul(v, v);
    case W_EXP_SUM: return exp_nonpos_f32x4(wasm_f32x4_sub(v, shift));
    default: return v;
  }
}

/* f32x4 max/min propagate NaN, as Math.max/min do in the reference. */
INLINE v128_t combine(int w, int is_int, v128_t a, v128_t b) {
  switch (w) {
    case W_MAX: return is_int ? wasm_i32x4_max(a, b) : wasm_f32x4_max(a, b);
    case W_MIN: return is_int ? wasm_i32x4_min(a, b) : wasm_f32x4_min(a, b);
    case W_PROD: return is_int ? wasm_i32x4_mul(a, b) : wasm_f32x4_mul(a, b);
    default: return is_int ? wasm_i32x4_add(a, b) : wasm_f32x4_add(a, b);
  }
}

/*
 * The fold of map(x) over the reduced elements of one output at x: the reduced groups but the
 * innermost are walked by position, the innermost as a run. ROWS: the run is contiguous, 4
 * vectors in flight (V8's NaN-exact f32x4.max is a ~9-cycle dependency chain, adds 3), the result
 * in every lane; SPLAT: every lane equal. `shift` is what log-sum-exp subtracts before exp.
 */
INLINE v128_t fold(const uint32_t* x, const ReduceParams* u, int mode, int w, int is_int, v128_t shift) {
  v128_t a[4], tail = identity(w, is_int);
  for (int b = 0; b < 4; b++) a[b] = tail;
  uint32_t outer_groups = u->nred ? u->nred - 1 : 0;
  uint32_t run = u->nred ? u->red_dims[outer_groups] : 1;
  uint32_t stride = u->nred ? u->red_strides[outer_groups] : 0;
  uint32_t outer = u->len ? u->len / run : 0;
  for (uint32_t o = 0; o < outer; o++) {
    const uint32_t* p = x + offset_of(o, u->red_dims, u->red_strides, outer_groups);
    uint32_t j = 0;
    if (mode == ROWS) {
      for (; j + 16 <= run; j += 16) {
        for (int b = 0; b < 4; b++) a[b] = combine(w, is_int, a[b], map(w, is_int, wasm_v128_load(p + j + 4 * b), shift));
      }
      for (; j + 4 <= run; j += 4) a[0] = combine(w, is_int, a[0], map(w, is_int, wasm_v128_load(p + j), shift));
      for (; j < run; j++) tail = combine(w, is_int, tail, map(w, is_int, wasm_v128_load32_splat(p + j), shift));
    } else {
      for (; j < run; j++) a[0] = combine(w, is_int, a[0], map(w, is_int, wasm_v128_load32_splat(p + j * stride), shift));
    }
  }
  if (mode == SPLAT) return a[0];
  v128_t r = combine(w, is_int, combine(w, is_int, a[0], a[1]), combine(w, is_int, a[2], a[3]));
  r = combine(w, is_int, r, wasm_i32x4_shuffle(r, r, 2, 3, 0, 1));
  r = combine(w, is_int, r, wasm_i32x4_shuffle(r, r, 1, 0, 3, 2));
  return combine(w, is_int, r, tail);
}

static uint32_t finish(uint32_t final, int is_int, uint32_t v, uint32_t n) {
  if (is_int) return final == F_MEAN ? (n ? (uint32_t)((int32_t)v / (int32_t)n) : 0) : v;
  float f = as_f32(v);
  switch (final) {
    case F_MEAN: f /= (float)n; break;
    case F_SQRT: f = sqrtf(f); break;
    case F_LOG: f = logf(f); break;
  }
  return as_u32(f);
}

/* log-sum-exp from the max m and Σ exp(x − m): a non-finite max is the result itself. */
static uint32_t log_sum_exp(uint32_t m, uint32_t s) {
  return isfinite(as_f32(m)) ? as_u32(as_f32(m) + logf(as_f32(s))) : m;
}

/* Folds, finishes and stores the output at x. Log-sum-exp takes two passes, the max first, so no
 * exp overflows. */
INLINE void fold_store(const uint32_t* x, uint32_t* y, const ReduceParams* u, int mode, int w, int is_int) {
  if (w == W_EXP_SUM) {
    v128_t m = fold(x, u, mode, W_MAX, 0, wasm_i32x4_splat(0));
    *y = log_sum_exp(wasm_i32x4_extract_lane(m, 0), wasm_i32x4_extract_lane(fold(x, u, mode, W_EXP_SUM, 0, m), 0));
  } else {
    *y = finish(u->op2, is_int, wasm_i32x4_extract_lane(fold(x, u, mode, w, is_int, wasm_i32x4_splat(0)), 0), u->len);
  }
}

/* Leftover columns and all-ones shapes: one output at a time, so the walk is switched on per
 * element rather than instantiated per case (which would only grow the module). */
__attribute__((noinline)) static void fold_store_one(const uint32_t* x, uint32_t* y, const ReduceParams* u) {
  fold_store(x, y, u, SPLAT, (int)u->op, (int)u->is_int);
}

/* Columns per pass of the column kernels: their accumulators (1 KiB each) stay in L1. */
#define CHUNK 256

/*
 * acc[b] ⊕= map(x[4b..4b+4), shift[b]) at every reduced position of the columns x[0..width)
 * (width a multiple of 4): each reduced position's columns are one contiguous stretch, so the
 * input streams row after row, as it lies in memory, instead of striding down one column.
 */
INLINE void fold_columns(const uint32_t* x, const ReduceParams* u, uint32_t width, int w, int is_int, const v128_t* shift, v128_t* acc) {
  uint32_t n = width / 4, outer_groups = u->nred - 1;
  uint32_t run = u->red_dims[outer_groups], stride = u->red_strides[outer_groups];
  for (uint32_t b = 0; b < n; b++) acc[b] = identity(w, is_int);
  uint32_t outer = u->len ? u->len / run : 0;
  for (uint32_t o = 0; o < outer; o++) {
    const uint32_t* p = x + offset_of(o, u->red_dims, u->red_strides, outer_groups);
    for (uint32_t j = 0; j < run; j++, p += stride) {
      for (uint32_t b = 0; b < n; b++) {
        v128_t v = wasm_v128_load(p + 4 * b);
        /* shift is only written (and read) for log-sum-exp. */
        acc[b] = combine(w, is_int, acc[b], map(w, is_int, v, w == W_EXP_SUM ? shift[b] : v));
      }
    }
  }
}

INLINE void columns_store(const uint32_t* x, uint32_t* y, const ReduceParams* u, uint32_t width, int w, int is_int) {
  v128_t acc[CHUNK / 4], m[CHUNK / 4];
  if (w == W_EXP_SUM) {
    fold_columns(x, u, width, W_MAX, 0, acc, m);
    fold_columns(x, u, width, W_EXP_SUM, 0, m, acc);
    for (uint32_t i = 0; i < width; i++) y[i] = log_sum_exp(((const uint32_t*)m)[i], ((const uint32_t*)acc)[i]);
  } else {
    fold_columns(x, u, width, w, is_int, m, acc);
    for (uint32_t i = 0; i < width; i++) y[i] = finish(u->op2, is_int, ((const uint32_t*)acc)[i], u->len);
  }
}

INLINE void reduce_all(const uint32_t* x, uint32_t* y, const ReduceParams* u, int w, int is_int) {
  uint32_t rows = u->rows, nk = u->nkept, nr = u->nred;
  if (nr && u->red_strides[nr - 1] == 1) {
    for (uint32_t r = 0; r < rows; r++) fold_store(x + offset_of(r, u->kept_dims, u->kept_strides, nk), y + r, u, ROWS, w, is_int);
  } else if (nr && nk && u->kept_strides[nk - 1] == 1) {
    uint32_t K = u->kept_dims[nk - 1], K4 = K / 4 * 4;
    for (uint32_t r0 = 0; r0 < rows; r0 += K) {
      const uint32_t* p = x + offset_of(r0 / K, u->kept_dims, u->kept_strides, nk - 1);
      for (uint32_t k = 0; k < K4; k += CHUNK) columns_store(p + k, y + r0 + k, u, min_i(CHUNK, K4 - k), w, is_int);
      for (uint32_t k = K4; k < K; k++) fold_store_one(p + k, y + r0 + k, u);
    }
  } else {
    for (uint32_t r = 0; r < rows; r++) fold_store_one(x + offset_of(r, u->kept_dims, u->kept_strides, nk), y + r, u);
  }
}

KERNEL(reduce_fold) void reduce_fold(const uint32_t* x, uint32_t* y, const ReduceParams* u) {
  /* Integer reductions serve shape arithmetic and index tensors, small and rarely hot: one
   * instance with the walk switched per element keeps the module smaller. */
  if (u->is_int) {
    reduce_all(x, y, u, (int)u->op, 1);
    return;
  }
#define CASE(w) case (w): reduce_all(x, y, u, (w), 0); break;
  switch (u->op) { CASE(W_SUM) CASE(W_MAX) CASE(W_MIN) CASE(W_PROD) CASE(W_ABS_SUM) CASE(W_SQUARE_SUM) CASE(W_EXP_SUM) }
#undef CASE
}

/*
 * ArgMax / ArgMin over one axis (so at most one reduced group), with the reference's exact rule:
 * walking the row in order, an element replaces the best if it is strictly better, or equal with
 * select_last_index. NaN never compares better or equal, so it wins only as the first element.
 * Lanes apply the rule to interleaved subsequences that all start from element 0; merging them
 * (strictly better value, else the smaller or larger index among equals) gives the same answer.
 */
INLINE v128_t beats_mask(int is_int, int is_max, v128_t v, v128_t best) {
  v128_t a = is_max ? v : best, b = is_max ? best : v;
  return is_int ? wasm_i32x4_gt(a, b) : wasm_f32x4_gt(a, b);
}

/* Lanes where v replaces best: beats it, or ties it with select_last_index. */
INLINE v128_t take_mask(int is_int, int is_max, int last, v128_t v, v128_t best) {
  v128_t m = beats_mask(is_int, is_max, v, best);
  if (!last) return m;
  return wasm_v128_or(m, is_int ? wasm_i32x4_eq(v, best) : wasm_f32x4_eq(v, best));
}

INLINE int beats(int is_int, int is_max, uint32_t v, uint32_t best) {
  if (is_int) return is_max ? (int32_t)v > (int32_t)best : (int32_t)v < (int32_t)best;
  return is_max ? as_f32(v) > as_f32(best) : as_f32(v) < as_f32(best);
}
INLINE int ties(int is_int, uint32_t v, uint32_t best) { return is_int ? v == best : as_f32(v) == as_f32(best); }

/* The best index of the contiguous row p[0..n). */
INLINE uint32_t arg_row(const uint32_t* p, uint32_t n, int is_max, int last, int is_int) {
  if (n == 0) return 0;
  uint32_t bv = p[0], bi = 0, j = 1;
  if (n >= 5) {
    v128_t vb = wasm_i32x4_splat((int32_t)bv), vi = wasm_i32x4_splat(0);
    v128_t idx = wasm_i32x4_make(1, 2, 3, 4);
    for (; j + 4 <= n; j += 4, idx = wasm_i32x4_add(idx, wasm_i32x4_splat(4))) {
      v128_t v = wasm_v128_load(p + j);
      v128_t m = take_mask(is_int, is_max, last, v, vb);
      vb = wasm_v128_bitselect(v, vb, m);
      vi = wasm_v128_bitselect(idx, vi, m);
    }
    uint32_t lv[4], li[4];
    wasm_v128_store(lv, vb);
    wasm_v128_store(li, vi);
    bv = lv[0];
    bi = li[0];
    for (int l = 1; l < 4; l++) {
      if (beats(is_int, is_max, lv[l], bv) || (ties(is_int, lv[l], bv) && (last ? li[l] > bi : li[l] < bi))) {
        bv = lv[l];
        bi = li[l];
      }
    }
  }
  for (; j < n; j++) {
    if (beats(is_int, is_max, p[j], bv) || (last && ties(is_int, p[j], bv))) {
      bv = p[j];
      bi = j;
    }
  }
  return bi;
}

INLINE void arg_all(const uint32_t* x, uint32_t* y, const ReduceParams* u, int is_max, int last, int is_int) {
  uint32_t rows = u->rows, n = u->len, nk = u->nkept;
  if (u->nred == 0 || n == 0) {
    memset(y, 0, (size_t)rows * 4);
  } else if (u->red_strides[0] == 1) {
    for (uint32_t r = 0; r < rows; r++) y[r] = arg_row(x + offset_of(r, u->kept_dims, u->kept_strides, nk), n, is_max, last, is_int);
  } else {
    /* The axis has stride K, the product of the (kept) dims after it: as in the folds, up to
     * CHUNK columns at once, the input read one contiguous stretch per position on the axis. */
    uint32_t K = u->kept_dims[nk - 1], K4 = K / 4 * 4, s = u->red_strides[0];
    v128_t vb[CHUNK / 4], vi[CHUNK / 4];
    for (uint32_t r0 = 0; r0 < rows; r0 += K) {
      const uint32_t* p = x + offset_of(r0 / K, u->kept_dims, u->kept_strides, nk - 1);
      for (uint32_t k = 0; k < K4; k += CHUNK) {
        uint32_t nv = (uint32_t)min_i(CHUNK, K4 - k) / 4;
        for (uint32_t b = 0; b < nv; b++) {
          vb[b] = wasm_v128_load(p + k + 4 * b);
          vi[b] = wasm_i32x4_splat(0);
        }
        for (uint32_t j = 1; j < n; j++) {
          const uint32_t* q = p + k + j * s;
          v128_t vj = wasm_i32x4_splat((int32_t)j);
          for (uint32_t b = 0; b < nv; b++) {
            v128_t v = wasm_v128_load(q + 4 * b);
            v128_t m = take_mask(is_int, is_max, last, v, vb[b]);
            vb[b] = wasm_v128_bitselect(v, vb[b], m);
            vi[b] = wasm_v128_bitselect(vj, vi[b], m);
          }
        }
        for (uint32_t b = 0; b < nv; b++) wasm_v128_store(y + r0 + k + 4 * b, vi[b]);
      }
      for (uint32_t k = K4; k < K; k++) {
        uint32_t bv = p[k], bi = 0;
        for (uint32_t j = 1; j < n; j++) {
          uint32_t v = p[k + j * s];
          if (beats(is_int, is_max, v, bv) || (last && ties(is_int, v, bv))) {
            bv = v;
            bi = j;
          }
        }
        y[r0 + k] = bi;
      }
    }
  }
}

KERNEL(reduce_arg) void reduce_arg(const uint32_t* x, uint32_t* y, const ReduceParams* u) {
  /* Instantiated per element type only: max/min and the tie rule are loop-invariant branches. */
  if (u->is_int) arg_all(x, y, u, (int)u->op, (int)u->op2, 1);
  else arg_all(x, y, u, (int)u->op, (int)u->op2, 0);
}
