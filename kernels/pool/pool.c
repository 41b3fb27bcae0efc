/*
 * MaxPool / AveragePool over 1, 2 or 3 spatial axes: the C twin of pool.wgsl, reading the same
 * parameter block (planned by pool/index.ts). Each output folds its window: kernel taps
 * `dilation` apart from out·stride − padBegin, taps in the padding skipped; AveragePool divides by
 * the taps inside [count_lo, count_hi) on every axis (the input only, or input plus explicit pads).
 *
 * Layout: x is [N·C planes, S0, S1, S2] and y [N·C, O0, O1, O2], contiguous; 1-D and 2-D pools
 * come with leading unit axes, so one kernel serves every rank.
 *
 * Vectorised along the output row (the innermost axis): 4 neighbouring outputs per vector, their
 * taps `stride` apart. Only outputs whose whole window lies inside the row on that axis go 4 at a
 * time ([lo, hi) below; a remainder under 4 as one more vector ending at hi), so the vector loop
 * has no bounds checks; the border outputs take the scalar loop. Measured on 64×112×112 (3×3,
 * pad 1; 2-core machine shared with other jobs, best of 60): accumulating in the output row, tap
 * by tap, took stride-1 MaxPool from 8.2 to 2.7 ms against a register accumulator per 4 outputs
 * (whose per-block loop overhead dominated); the two-load shuffle for stride 2 took MaxPool from
 * 1.30 to 1.03 ms against four scalar loads.
 * The tap count is separable: per-axis counts multiply. Max starts from the reference's value,
 * the lowest finite f32, and a NaN tap makes the output NaN, as the reference's Math.max does.
 *
 * Params: [0] outputs, then per axis a (0..2) at 4 + 8a: [in, out, kernel, stride, dilation,
 *         padBegin, count_lo, count_hi] (the last three as i32).
 */
#include "tessera.h"
#include "../shared/vmath.h"

#define INLINE static inline __attribute__((always_inline))

typedef struct {
  uint32_t in, out, kernel, stride, dilation;
  int32_t pad_begin, count_lo, count_hi;
} PoolAxis;

typedef struct {
  uint32_t outputs, unused[3];
  PoolAxis axis[3];
} PoolParams;

/* Taps of a window starting at `start` that fall inside [lo, hi). */
static uint32_t taps_in(const PoolAxis* a, int start, int lo, int hi) {
  uint32_t n = 0;
  for (uint32_t k = 0; k < a->kernel; k++) {
    int i = start + (int)(k * a->dilation);
    n += i >= lo && i < hi;
  }
  return n;
}

/* The taps k of a window whose coordinate start + k·dilation lies inside [0, in). */
typedef struct {
  uint32_t first, end;
} Taps;

static Taps taps_inside(const PoolAxis* a, int start) {
  int d = (int)a->dilation, k = (int)a->kernel;
  int f = min_i(start >= 0 ? 0 : (-start + d - 1) / d, k);
  int e = start >= (int)a->in ? 0 : ((int)a->in - 1 - start) / d + 1;
  return (Taps){(uint32_t)f, (uint32_t)max_i(f, min_i(e, k))};
}

/* Four taps `stride` apart; strides 2 and 3 as two overlapping loads and a shuffle, which read
 * nothing past the last tap. */
INLINE v128_t load_taps(const float* p, uint32_t stride) {
  switch (stride) {
    case 1: return wasm_v128_load(p);
    case 2: return wasm_i32x4_shuffle(wasm_v128_load(p), wasm_v128_load(p + 3), 0, 2, 5, 7);
    case 3: return wasm_i32x4_shuffle(wasm_v128_load(p), wasm_v128_load(p + 6), 0, 3, 4, 7);
    default: return wasm_f32x4_make(p[0], p[stride], p[2 * stride], p[3 * stride]);
  }
}

/* y[o2] ⊕= row[o2 · stride + offset], for o2 in [lo, hi), 4 at a time (the index is never
 * negative there, though offset may be). */
INLINE void accumulate(float* y, const float* row, int offset, int lo, int hi, int stride, int average) {
  for (int o2 = lo; o2 < hi; o2 += 4) {
    v128_t v = load_taps(row + (o2 * stride + offset), (uint32_t)stride);
    v128_t a = wasm_v128_load(y + o2);
    wasm_v128_store(y + o2, average ? wasm_f32x4_add(a, v) : wasm_f32x4_max(a, v));
  }
}

/*
 * The interior outputs y[lo, hi) (a multiple of 4) of one output row: y itself accumulates, one
 * input row and tap at a time, so the inner loop streams along the row (load, combine, store per
 * 4 outputs) with no per-output loop overhead, and the row stays in L1 across the taps.
 */
INLINE void pool_interior(const float* xp, float* y, const PoolParams* u, int s0, int s1, Taps t0, Taps t1, int lo, int hi, float count, int average) {
  const PoolAxis *a0 = &u->axis[0], *a1 = &u->axis[1], *a2 = &u->axis[2];
  int stride = (int)a2->stride;
  v128_t init = wasm_f32x4_splat(average ? 0.0f : -3.4028234663852886e38f);
  for (int o2 = lo; o2 < hi; o2 += 4) wasm_v128_store(y + o2, init);
  for (uint32_t k0 = t0.first; k0 < t0.end; k0++) {
    uint32_t i0 = (uint32_t)s0 + k0 * a0->dilation;
    for (uint32_t k1 = t1.first; k1 < t1.end; k1++) {
      const float* row = xp + (i0 * a1->in + (uint32_t)s1 + k1 * a1->dilation) * a2->in;
      for (uint32_t k2 = 0; k2 < a2->kernel; k2++) {
        int offset = (int)(k2 * a2->dilation) - a2->pad_begin;
        /* The common strides get loops of their own, with constant shuffles. */
        switch (stride) {
          case 1: accumulate(y, row, offset, lo, hi, 1, average); break;
          case 2: accumulate(y, row, offset, lo, hi, 2, average); break;
          case 3: accumulate(y, row, offset, lo, hi, 3, average); break;
          default: accumulate(y, row, offset, lo, hi, stride, average);
        }
      }
    }
  }
  if (average) {
    v128_t c = wasm_f32x4_splat(count);
    for (int o2 = lo; o2 < hi; o2 += 4) wasm_v128_store(y + o2, wasm_f32x4_div(wasm_v128_load(y + o2), c));
  }
}

/* One output row (fixed plane, o0, o1) of y, from the plane xp. */
INLINE void pool_row(const float* xp, float* y, const PoolParams* u, uint32_t o0, uint32_t o1, int average) {
  const PoolAxis *a0 = &u->axis[0], *a1 = &u->axis[1], *a2 = &u->axis[2];
  int s0 = (int)(o0 * a0->stride) - a0->pad_begin;
  int s1 = (int)(o1 * a1->stride) - a1->pad_begin;
  Taps t0 = taps_inside(a0, s0), t1 = taps_inside(a1, s1);
  float count01 = 1.0f;
  if (average) count01 = (float)(taps_in(a0, s0, a0->count_lo, a0->count_hi) * taps_in(a1, s1, a1->count_lo, a1->count_hi));

  /* Outputs whose taps on axis 2 all lie in [0, in): o·stride ≥ pad and
   * o·stride − pad + (kernel − 1)·dilation ≤ in − 1. */
  int pad = a2->pad_begin, last_tap = (int)((a2->kernel - 1) * a2->dilation);
  int stride = (int)a2->stride, out = (int)a2->out;
  int lo = min_i((pad + stride - 1) / stride, out);
  int room = (int)a2->in - 1 + pad - last_tap;
  int hi = room < 0 ? lo : max_i(lo, min_i(room / stride + 1, out));

  /* The interior past the last whole vector is one more vector ending at hi, which recomputes a
   * few outputs to the same values: as scalar outputs (taps_inside's divisions and a tap loop
   * each) they took half of a 2x2 MaxPool on 14- and 28-wide rows. */
  int hi4 = lo + (hi - lo) / 4 * 4;
  if (hi4 > lo) pool_interior(xp, y, u, s0, s1, t0, t1, lo, hi4, count01 * (float)a2->kernel, average);
  if (hi4 < hi && hi - lo >= 4) {
    pool_interior(xp, y, u, s0, s1, t0, t1, hi - 4, hi, count01 * (float)a2->kernel, average);
    hi4 = hi;
  }
  for (int o2 = 0; o2 < out; o2++) {
    if (o2 == lo) o2 = hi4;
    if (o2 >= out) break;
    int s2 = o2 * stride - pad;
    Taps t2 = taps_inside(a2, s2);
    float acc = average ? 0.0f : -3.4028234663852886e38f;
    for (uint32_t k0 = t0.first; k0 < t0.end; k0++) {
      uint32_t i0 = (uint32_t)s0 + k0 * a0->dilation;
      for (uint32_t k1 = t1.first; k1 < t1.end; k1++) {
        const float* row = xp + (i0 * a1->in + (uint32_t)s1 + k1 * a1->dilation) * a2->in;
        for (uint32_t k2 = t2.first; k2 < t2.end; k2++) {
          float v = row[s2 + (int)(k2 * a2->dilation)];
          acc = average ? acc + v : max_nan(acc, v);
        }
      }
    }
    y[o2] = average ? acc / (count01 * (float)taps_in(a2, s2, a2->count_lo, a2->count_hi)) : acc;
  }
}

INLINE void pool(const float* x, float* y, const PoolParams* u, int average) {
  const PoolAxis* a = u->axis;
  uint32_t out_plane = a[0].out * a[1].out * a[2].out, in_plane = a[0].in * a[1].in * a[2].in;
  if (u->outputs == 0) return;
  for (uint32_t p = 0; p < u->outputs / out_plane; p++) {
    for (uint32_t o0 = 0; o0 < a[0].out; o0++) {
      for (uint32_t o1 = 0; o1 < a[1].out; o1++) {
        pool_row(x + p * in_plane, y + p * out_plane + (o0 * a[1].out + o1) * a[2].out, u, o0, o1, average);
      }
    }
  }
}

KERNEL(pool_max) void pool_max(const float* x, float* y, const PoolParams* u) { pool(x, y, u, 0); }
KERNEL(pool_average) void pool_average(const float* x, float* y, const PoolParams* u) { pool(x, y, u, 1); }
