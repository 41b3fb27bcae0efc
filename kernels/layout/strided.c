/*
 * Generic strided copy: the C twin of strided.wgsl, behind Transpose, DepthToSpace, SpaceToDepth,
 * Slice, Expand, Tile, Pad, Concat, Split, Gather, GatherElements and Dropout's copy and mask.
 * It reads the same uniform words (planned once by strided-kernel.ts), so for every element c of
 * the iteration space it writes what the WGSL writes:
 *   dst[dst_base + Σ c[d]·dst_stride[d]] =
 *     src[src_base + Σ bound(start[d] + c[d]·step[d], src_dim[d])·src_stride[d] (+ index term)]
 * or the fill word where the `fill` rule finds a coordinate outside the source. Elements are
 * 32-bit words whatever their type (a copy never looks at the bits), so one kernel serves every
 * dtype. The WGSL bakes the rank and edge rule into its text; here they are uniform words 6 and 7,
 * and the index tensor is a separate entry point (strided_gather) because it is an extra argument.
 *
 * The WGSL spends a div/mod per axis per element; here the work goes by rows of the innermost
 * axis: the outer coordinates advance as an odometer once per row, and a row is cut into runs
 * whose source is contiguous (memcpy: bulk memory.copy), constant (SIMD fill: Expand's broadcast,
 * Pad's edge, the fill value) or a plain stride (Transpose's inner axis). The planner has already
 * merged axes, so most copies are one to three rows deep and many are a single memcpy. Only an
 * index that moves along the row (Gather on the last axis, GatherElements) or an edge rule with a
 * step other than 1 goes element by element.
 *
 * Uniform words: 0 count, 1 src_base, 2 dst_base, 3 fill, 4 gather_dim, 5 gather_stride, 6 rank R,
 * 7 edge rule (EdgeRule below), then 7 arrays of R words from 8: n, start, step, src_dim,
 * src_stride, dst_stride, idx_stride.
 */
#include "tessera.h"

/* Uniform word 7; the order of `Bound` in strided-kernel.ts. */
enum EdgeRule { EDGE_NONE, EDGE_WRAP, EDGE_CLAMP, EDGE_REFLECT, EDGE_FILL };

typedef struct {
  uint32_t count;
  int32_t src_base;
  uint32_t dst_base;
  uint32_t fill;
  int32_t gather_dim;
  int32_t gather_stride;
  uint32_t rank;
  uint32_t rule;
  uint32_t axes[];
} Params;

enum { AX_N, AX_START, AX_STEP, AX_SRC_DIM, AX_SRC_STRIDE, AX_DST_STRIDE, AX_IDX_STRIDE };

/* Word `field` of axis d: arrays of R words follow the header in the order above. */
static inline int32_t axis(const Params* u, int field, uint32_t d) { return (int32_t)u->axes[(uint32_t)field * u->rank + d]; }

/* strided.wgsl's bound(): the source coordinate, or -1 (fill rule only) where it is outside. */
static inline int32_t bound(uint32_t rule, int32_t k, int32_t n) {
  switch (rule) {
    case EDGE_WRAP: {
      int32_t r = k % n;
      return r < 0 ? r + n : r;
    }
    case EDGE_CLAMP: return k < 0 ? 0 : k >= n ? n - 1 : k;
    case EDGE_REFLECT: {
      if (n == 1) return 0;
      int32_t m = 2 * (n - 1), r = k % m;
      if (r < 0) r += m;
      return r >= n ? m - r : r;
    }
    case EDGE_FILL: return k < 0 || k >= n ? -1 : k;
    default: return k;
  }
}

/* The index term of a gather; out-of-range indices clamp, as in the WGSL (ONNX leaves them undefined). */
static inline int32_t gathered(const int32_t* idx, uint32_t j, const Params* u) {
  int32_t g = idx[j];
  if (g < 0) g += u->gather_dim;
  return (g < 0 ? 0 : g >= u->gather_dim ? u->gather_dim - 1 : g) * u->gather_stride;
}

static void fill_run(uint32_t* dst, uint32_t ds, uint32_t n, uint32_t v) {
  if (ds != 1) {
    for (uint32_t c = 0; c < n; c++) dst[c * ds] = v;
    return;
  }
  v128_t vv = wasm_i32x4_splat((int32_t)v);
  uint32_t c = 0;
  for (; c + 4 <= n; c += 4) wasm_v128_store(dst + c, vv);
  for (; c < n; c++) dst[c] = v;
}

/* n elements from src with stride ss (any sign, or 0 for a broadcast) to dst with stride ds. */
static void copy_run(uint32_t* dst, uint32_t ds, const uint32_t* src, int32_t ss, uint32_t n) {
  if (ss == 0) {
    fill_run(dst, ds, n, *src);
  } else if (ss == 1 && ds == 1) {
    memcpy(dst, src, (size_t)n * 4);
  } else {
    for (uint32_t c = 0; c < n; c++, src += ss) dst[c * ds] = *src;
  }
}

/*
 * Under an edge rule, the source coordinates bound(k), bound(k+1), … start a run of `len` elements
 * that is either outside (from = -1), constant (dir 0), forward (1) or backward (-1) from `from`.
 */
typedef struct {
  int32_t from, dir;
  uint32_t len;
} Run;

static Run run_at(uint32_t rule, int32_t k, int32_t n) {
  const uint32_t rest = UINT32_MAX;
  switch (rule) {
    case EDGE_FILL:
      if (k < 0) return (Run){-1, 0, (uint32_t)-k};
      if (k >= n) return (Run){-1, 0, rest};
      return (Run){k, 1, (uint32_t)(n - k)};
    case EDGE_CLAMP:
      if (k < 0) return (Run){0, 0, (uint32_t)-k};
      if (k >= n) return (Run){n - 1, 0, rest};
      return (Run){k, 1, (uint32_t)(n - k)};
    case EDGE_WRAP: {
      int32_t r = bound(EDGE_WRAP, k, n);
      return (Run){r, 1, (uint32_t)(n - r)};
    }
    case EDGE_REFLECT: {
      if (n == 1) return (Run){0, 0, rest};
      // Period 2(n-1): up from 0 to n-2, then down from n-1 to 1.
      int32_t m = 2 * (n - 1), r = k % m;
      if (r < 0) r += m;
      return r < n - 1 ? (Run){r, 1, (uint32_t)(n - 1 - r)} : (Run){m - r, -1, (uint32_t)(m - r)};
    }
    default: return (Run){k, 1, rest};
  }
}

static void strided(const uint32_t* src, const int32_t* idx, uint32_t* dst, const Params* u) {
  const uint32_t R = u->rank, rule = u->rule;
  // The innermost axis is walked as rows; a rank-0 copy (every axis merged away) is one element.
  const uint32_t last = R ? R - 1 : 0;
  const uint32_t n = R ? (uint32_t)axis(u, AX_N, last) : 1;
  const int32_t start = R ? axis(u, AX_START, last) : 0, step = R ? axis(u, AX_STEP, last) : 1;
  const int32_t dim = R ? axis(u, AX_SRC_DIM, last) : 1, ss = R ? axis(u, AX_SRC_STRIDE, last) : 0;
  const uint32_t ds = R ? (uint32_t)axis(u, AX_DST_STRIDE, last) : 0, is = R ? (uint32_t)axis(u, AX_IDX_STRIDE, last) : 0;
  const int per_element = (idx && is != 0) || (rule != EDGE_NONE && step != 1);
  const uint32_t rows = u->count / n;
  uint32_t c[R ? R : 1];
  memset(c, 0, sizeof c);

  for (uint32_t row = 0; row < rows; row++) {
    int32_t s = u->src_base;
    uint32_t o = u->dst_base, j = 0;
    int outside = 0;
    for (uint32_t d = 0; d < last; d++) {
      int32_t k = bound(rule, axis(u, AX_START, d) + (int32_t)c[d] * axis(u, AX_STEP, d), axis(u, AX_SRC_DIM, d));
      outside |= k < 0;
      s += k * axis(u, AX_SRC_STRIDE, d);
      o += c[d] * (uint32_t)axis(u, AX_DST_STRIDE, d);
      j += c[d] * (uint32_t)axis(u, AX_IDX_STRIDE, d);
    }
    uint32_t* out = dst + o;

    if (outside) {
      fill_run(out, ds, n, u->fill);
    } else if (per_element) {
      for (uint32_t x = 0; x < n; x++) {
        int32_t k = bound(rule, start + (int32_t)x * step, dim);
        if (k < 0) {
          out[x * ds] = u->fill;
        } else {
          int32_t at = s + k * ss;
          if (idx) at += gathered(idx, j + x * is, u);
          out[x * ds] = src[at];
        }
      }
    } else {
      if (idx) s += gathered(idx, j, u);
      if (rule == EDGE_NONE) {
        copy_run(out, ds, src + s + start * ss, step * ss, n);
      } else {
        for (uint32_t x = 0; x < n;) {
          Run r = run_at(rule, start + (int32_t)x, dim);
          uint32_t len = r.len < n - x ? r.len : n - x;
          if (r.from < 0) fill_run(out + x * ds, ds, len, u->fill);
          else copy_run(out + x * ds, ds, src + s + r.from * ss, r.dir * ss, len);
          x += len;
        }
      }
    }

    for (int32_t d = (int32_t)last - 1; d >= 0; d--) {
      if (++c[d] < (uint32_t)axis(u, AX_N, (uint32_t)d)) break;
      c[d] = 0;
    }
  }
}

KERNEL(strided_copy) void strided_copy(const uint32_t* src, uint32_t* dst, const Params* u) { strided(src, 0, dst, u); }

KERNEL(strided_gather) void strided_gather(const uint32_t* src, const int32_t* idx, uint32_t* dst, const Params* u) {
  strided(src, idx, dst, u);
}
