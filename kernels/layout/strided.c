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
 * axis: the outer coordinates advance as an odometer once per row (only the axes that moved are
 * re-bounded), and a row is cut into runs whose source is contiguous (memcpy: bulk memory.copy),
 * constant (SIMD fill: Expand's broadcast, Pad's edge, the fill value) or a plain stride. The
 * planner has already merged axes, so most copies are one to three rows deep and many are a
 * single memcpy. A transpose (the row read with a stride, some outer axis reading the source
 * contiguously, which then goes next to the row) runs 4 or 16 rows at a time in 4×4 SIMD blocks,
 * so each source cache line is read once rather than once per row. An index that moves along the row (Gather on the last axis, GatherElements)
 * goes element by element in a tight loop. Combinations no planner makes today (an edge rule with
 * a step other than 1, or with an index) take a plain per-element loop, so the twin still accepts
 * every uniform block the WGSL does.
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

typedef struct {
  int32_t n, start, step, dim, ss, ds, is;
} Axis;

/* An outer axis' share of the row's source offset at coordinate c, setting *outside for the fill rule. */
static inline int32_t source_part(uint32_t rule, const Axis* a, int32_t c, int32_t* outside) {
  int32_t k = bound(rule, a->start + c * a->step, a->dim);
  *outside = k < 0;
  return k < 0 ? 0 : k * a->ss;
}

/* One row of the innermost axis `in`, its outer coordinates giving source offset s and index offset j. */
static void copy_row(const uint32_t* src, const int32_t* idx, uint32_t* out, const Axis* in, uint32_t rule, int32_t s, int32_t j,
                     const Params* u) {
  const int32_t n = in->n, ds = in->ds;
  if (idx && in->is != 0 && rule == EDGE_NONE) {
    const uint32_t* p = src + s + in->start * in->ss;
    const int32_t S = in->step * in->ss;
    for (int32_t x = 0; x < n; x++) out[x * ds] = p[x * S + gathered(idx, (uint32_t)(j + x * in->is), u)];
    return;
  }
  if ((idx && in->is != 0) || (rule != EDGE_NONE && in->step != 1)) {
    for (int32_t x = 0; x < n; x++) {
      int32_t k = bound(rule, in->start + x * in->step, in->dim);
      if (k < 0) {
        out[x * ds] = u->fill;
      } else {
        int32_t at = s + k * in->ss;
        if (idx) at += gathered(idx, (uint32_t)(j + x * in->is), u);
        out[x * ds] = src[at];
      }
    }
    return;
  }
  if (idx) s += gathered(idx, (uint32_t)j, u);
  if (rule == EDGE_NONE) {
    copy_run(out, (uint32_t)ds, src + s + in->start * in->ss, in->step * in->ss, (uint32_t)n);
    return;
  }
  for (int32_t x = 0; x < n;) {
    Run r = run_at(rule, in->start + x, in->dim);
    int32_t len = r.len < (uint32_t)(n - x) ? (int32_t)r.len : n - x;
    if (r.from < 0) fill_run(out + x * ds, (uint32_t)ds, (uint32_t)len, u->fill);
    else copy_run(out + x * ds, (uint32_t)ds, src + s + r.from * in->ss, r.dir * in->ss, (uint32_t)len);
    x += len;
  }
}

/*
 * 4·groups rows at once where a transpose reads each row with stride S but the rows side by side
 * (source stride 1 between rows, dst_stride dj): 4×4 blocks, four vector loads, a shuffle
 * transpose, four vector stores. Sixteen rows use a whole 64-byte source line per column.
 */
static void transpose_rows(const uint32_t* p, int32_t S, int32_t n, uint32_t* q, int32_t dj, int32_t groups) {
  int32_t x = 0;
  for (; x + 4 <= n; x += 4) {
    for (int32_t g = 0; g < groups; g++) {
      const uint32_t* pg = p + 4 * g;
      uint32_t* qg = q + 4 * g * dj;
      v128_t a0 = wasm_v128_load(pg + x * S), a1 = wasm_v128_load(pg + (x + 1) * S);
      v128_t a2 = wasm_v128_load(pg + (x + 2) * S), a3 = wasm_v128_load(pg + (x + 3) * S);
      v128_t t0 = wasm_i32x4_shuffle(a0, a1, 0, 4, 1, 5), t1 = wasm_i32x4_shuffle(a2, a3, 0, 4, 1, 5);
      v128_t t2 = wasm_i32x4_shuffle(a0, a1, 2, 6, 3, 7), t3 = wasm_i32x4_shuffle(a2, a3, 2, 6, 3, 7);
      wasm_v128_store(qg + x, wasm_i32x4_shuffle(t0, t1, 0, 1, 4, 5));
      wasm_v128_store(qg + dj + x, wasm_i32x4_shuffle(t0, t1, 2, 3, 6, 7));
      wasm_v128_store(qg + 2 * dj + x, wasm_i32x4_shuffle(t2, t3, 0, 1, 4, 5));
      wasm_v128_store(qg + 3 * dj + x, wasm_i32x4_shuffle(t2, t3, 2, 3, 6, 7));
    }
  }
  for (; x < n; x++)
    for (int32_t r = 0; r < 4 * groups; r++) q[r * dj + x] = p[x * S + r];
}

static void strided(const uint32_t* src, const int32_t* idx, uint32_t* dst, const Params* u) {
  const uint32_t R = u->rank, rule = u->rule;
  // The innermost axis is walked as rows, the outer ones as an odometer that updates the row's
  // offsets by the axes that moved; a rank-0 copy (every axis merged away) is one row of one.
  const uint32_t outer = R ? R - 1 : 0;
  Axis ax[R ? R : 1];
  for (uint32_t d = 0; d < R; d++) {
    ax[d] = (Axis){axis(u, AX_N, d), axis(u, AX_START, d), axis(u, AX_STEP, d), axis(u, AX_SRC_DIM, d),
                   axis(u, AX_SRC_STRIDE, d), axis(u, AX_DST_STRIDE, d), axis(u, AX_IDX_STRIDE, d)};
  }
  const Axis in = R ? ax[outer] : (Axis){1, 0, 1, 1, 0, 0, 0};
  const int32_t S = in.step * in.ss;
  // A transpose goes by blocks of rows along the outer axis that reads the source contiguously;
  // rows may go in any order (each knows its destination), so that axis moves next to the row.
  const int transpose = rule == EDGE_NONE && !idx && outer && in.ds == 1 && S != 0 && S != 1;
  for (uint32_t d = 0; transpose && d + 1 < outer; d++) {
    if (ax[d].step * ax[d].ss == 1 && ax[outer - 1].step * ax[outer - 1].ss != 1) {
      Axis t = ax[d];
      ax[d] = ax[outer - 1];
      ax[outer - 1] = t;
    }
  }
  int32_t c[outer + 1], part[outer + 1], out[outer + 1];
  int32_t s = u->src_base, o = (int32_t)u->dst_base, j = 0, outside = 0;
  for (uint32_t d = 0; d < outer; d++) {
    c[d] = 0;
    part[d] = source_part(rule, &ax[d], 0, &out[d]);
    s += part[d];
    outside += out[d];
  }
  const Axis* above = outer ? &ax[outer - 1] : 0;
  const int tiles = transpose && above->step * above->ss == 1;

  const uint32_t rows = u->count / (uint32_t)in.n;
  for (uint32_t row = 0; row < rows;) {
    int32_t done = 1;
    if (outside) {
      fill_run(dst + o, (uint32_t)in.ds, (uint32_t)in.n, u->fill);
    } else if (tiles && c[outer - 1] + 4 <= above->n) {
      int32_t groups = c[outer - 1] + 16 <= above->n ? 4 : 1;
      transpose_rows(src + s + in.start * in.ss, S, in.n, dst + o, above->ds, groups);
      done = 4 * groups;
    } else {
      copy_row(src, idx, dst + o, &in, rule, s, j, u);
    }
    row += (uint32_t)done;
    // Blocks of rows only where they fit the axis, so a carry lands on 0 exactly.
    for (int32_t d = (int32_t)outer - 1; d >= 0; d--, done = 1) {
      const Axis* a = &ax[d];
      int32_t was = c[d];
      c[d] = was + done < a->n ? was + done : 0;
      s -= part[d];
      outside -= out[d];
      part[d] = source_part(rule, a, c[d], &out[d]);
      s += part[d];
      outside += out[d];
      o += (c[d] - was) * a->ds;
      j += (c[d] - was) * a->is;
      if (c[d]) break;
    }
  }
}

KERNEL(strided_copy) void strided_copy(const uint32_t* src, uint32_t* dst, const Params* u) { strided(src, 0, dst, u); }

KERNEL(strided_gather) void strided_gather(const uint32_t* src, const int32_t* idx, uint32_t* dst, const Params* u) {
  strided(src, idx, dst, u);
}
