/*
 * Resize and Upsample (nearest, N-linear, N-cubic) from per-axis tap tables: the C twin of
 * resize.wgsl, reading the same uniform words and tables (planned once by resize.ts). All the
 * coordinate arithmetic (transformation mode, rounding, clamping, cubic weights, exclude_outside)
 * was resolved at load into K taps per axis and output coordinate (K = 1, 2 or 4): a source index
 * (-1: outside, which takes the extrapolation value) and a weight. Leading axes that never mix two
 * source indices read their first tap; the trailing L axes are interpolated. With L = 0 elements
 * are copied as 32-bit words, whatever their type (nearest on int and bool data).
 *
 * The WGSL sums all K^L corners per output; the weights are separable, so here each output row
 * (innermost axis) is Σ over the K^(L-1) corners above it of corner weight × a source row already
 * interpolated along the innermost axis. Those interpolated rows are what neighbouring output rows
 * share (an upscale by 2 reads each source row for about 2K output rows), so they are kept in a
 * small cache in the scratch buffer and computed once each: K gathers per output instead of K^L.
 * Interpolating a row runs four outputs at a time in SIMD (the source reads are gathers, four
 * scalar loads; weighing and summing are vector ops); combining rows is contiguous SIMD. Zero
 * weights are skipped as in the WGSL (an infinite source behind a zero weight adds nothing); only
 * the summation order differs from the GPU, by rounding.
 *
 * Uniform words: 0 count, 1 L, 2 K, 3 extrapolation value (bits), 4 R, then 3 arrays of R words
 * from 8: output dims, source strides (elements), first table entry of the axis. The scratch
 * buffer (after the WGSL's bindings) holds K^(L-1) rows of output-row length when L ≥ 2.
 */
#include "tessera.h"

typedef struct {
  uint32_t count, lerp_axes, k, extrapolation, rank, pad[3];
  uint32_t axes[];
} Params;

static inline uint32_t dim_of(const Params* u, uint32_t a) { return u->axes[a]; }
static inline int32_t stride_of(const Params* u, uint32_t a) { return (int32_t)u->axes[u->rank + a]; }
static inline uint32_t table_of(const Params* u, uint32_t a) { return u->axes[2 * u->rank + a]; }

/* The n outputs of one row interpolated along the innermost axis from the source row at `row`. */
static void interpolate_row(const float* row, const int32_t* idx, const float* w, int32_t K, int32_t stride, int32_t n, float* out) {
  const v128_t zero = wasm_f32x4_splat(0.0f);
  int32_t x = 0;
  for (; x + 4 <= n; x += 4) {
    const int32_t* i4 = idx + x * K;
    const float* w4 = w + x * K;
    v128_t acc = zero;
    for (int32_t t = 0; t < K; t++) {
      v128_t wt = wasm_f32x4_make(w4[t], w4[K + t], w4[2 * K + t], w4[3 * K + t]);
      // An outside tap (-1, weight 0) reads element 0 instead, so the loads stay in the source.
      int32_t a = i4[t], b = i4[K + t], c = i4[2 * K + t], d = i4[3 * K + t];
      v128_t v = wasm_f32x4_make(row[max_i(a, 0) * stride], row[max_i(b, 0) * stride], row[max_i(c, 0) * stride], row[max_i(d, 0) * stride]);
      acc = wasm_f32x4_add(acc, wasm_v128_and(wasm_f32x4_mul(wt, v), wasm_f32x4_ne(wt, zero)));
    }
    wasm_v128_store(out + x, acc);
  }
  for (; x < n; x++) {
    float acc = 0.0f;
    for (int32_t t = 0; t < K; t++) {
      float wt = w[x * K + t];
      if (wt != 0.0f) acc += wt * row[idx[x * K + t] * stride];
    }
    out[x] = acc;
  }
}

/* Interpolated source rows, keyed by source offset, each slot stamped with the output row that last used it. */
typedef struct {
  float* rows;
  int32_t* key;
  uint32_t* stamp;
  uint32_t slots;
} RowCache;

/*
 * Least recently used goes. As many slots as corners: at a miss, fewer than that many carry the
 * current output row's stamp, so the rows it already holds stay put.
 */
static const float* cached_row(RowCache* cache, int32_t offset, uint32_t now, const float* src, const int32_t* idx, const float* w,
                               int32_t K, int32_t stride, int32_t n) {
  uint32_t victim = 0;
  for (uint32_t i = 0; i < cache->slots; i++) {
    if (cache->key[i] == offset) {
      cache->stamp[i] = now;
      return cache->rows + (size_t)i * (size_t)n;
    }
    if (cache->stamp[i] < cache->stamp[victim]) victim = i;
  }
  float* row = cache->rows + (size_t)victim * (size_t)n;
  interpolate_row(src + offset, idx, w, K, stride, n, row);
  cache->key[victim] = offset;
  cache->stamp[victim] = now;
  return row;
}

KERNEL(resize) void resize(const uint32_t* src, const int32_t* taps, const float* weights, uint32_t* dst, float* scratch, const Params* u) {
  const uint32_t R = u->rank, L = u->lerp_axes, K = u->k, last = R - 1;
  const uint32_t n = dim_of(u, last), rows = u->count / n;
  const int32_t last_stride = stride_of(u, last);
  const int32_t* row_taps = taps + table_of(u, last) * K;
  const float* row_w = weights + table_of(u, last) * K;
  const float* fsrc = (const float*)src;
  uint32_t corners = 1;
  for (uint32_t a = 1; a < L; a++) corners *= K;
  float corner_w[corners];
  int32_t corner_s[corners];
  int32_t key[corners];
  uint32_t stamp[corners];
  for (uint32_t i = 0; i < corners; i++) key[i] = -1, stamp[i] = 0;
  RowCache cache = {scratch, key, stamp, corners};
  uint32_t c[R];
  memset(c, 0, sizeof c);

  for (uint32_t row = 0; row < rows; row++, dst += n) {
    int32_t base = 0;
    int outside = 0;
    for (uint32_t a = 0; a < last; a++) {
      int32_t i = taps[(table_of(u, a) + c[a]) * K];
      outside |= i < 0;
      if (a < R - L) base += i * stride_of(u, a);
    }

    if (outside) {
      v128_t fill = wasm_i32x4_splat((int32_t)u->extrapolation);
      uint32_t x = 0;
      for (; x + 4 <= n; x += 4) wasm_v128_store(dst + x, fill);
      for (; x < n; x++) dst[x] = u->extrapolation;
    } else if (L == 0) {
      for (uint32_t x = 0; x < n; x++) {
        int32_t i = row_taps[x * K];
        dst[x] = i < 0 ? u->extrapolation : src[base + i * last_stride];
      }
    } else {
      float* out = (float*)dst;
      if (L == 1) {
        interpolate_row(fsrc + base, row_taps, row_w, (int32_t)K, last_stride, (int32_t)n, out);
      } else {
        // Corners over the interpolated axes above the row, the first of them fastest as in the WGSL.
        uint32_t live = 0;
        for (uint32_t m = 0; m < corners; m++) {
          float w = 1.0f;
          int32_t s = base;
          uint32_t q = m;
          for (uint32_t a = R - L; a < last; a++) {
            uint32_t e = (table_of(u, a) + c[a]) * K + q % K;
            q /= K;
            w *= weights[e];
            s += taps[e] * stride_of(u, a);
          }
          if (w != 0.0f) corner_w[live] = w, corner_s[live++] = s;
        }
        const float* src_rows[live ? live : 1];
        for (uint32_t m = 0; m < live; m++) src_rows[m] = cached_row(&cache, corner_s[m], row + 1, fsrc, row_taps, row_w, (int32_t)K, last_stride, (int32_t)n);
        uint32_t x = 0;
        for (; x + 4 <= n; x += 4) {
          v128_t acc = wasm_f32x4_splat(0.0f);
          for (uint32_t m = 0; m < live; m++) acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_f32x4_splat(corner_w[m]), wasm_v128_load(src_rows[m] + x)));
          wasm_v128_store(out + x, acc);
        }
        for (; x < n; x++) {
          float acc = 0.0f;
          for (uint32_t m = 0; m < live; m++) acc += corner_w[m] * src_rows[m][x];
          out[x] = acc;
        }
      }
      // tf_crop_and_resize: outputs whose innermost coordinate falls outside the source.
      for (uint32_t x = 0; x < n; x++)
        if (row_taps[x * K] < 0) dst[x] = u->extrapolation;
    }

    for (int32_t a = (int32_t)last - 1; a >= 0; a--) {
      if (++c[a] < dim_of(u, (uint32_t)a)) break;
      c[a] = 0;
    }
  }
}
