/*
 * Resize and Upsample (nearest, N-linear, N-cubic) from per-axis tap tables: the C twin of
 * resize.wgsl, reading the same uniform words and tables (planned once by resize.ts). All the
 * coordinate arithmetic (transformation mode, rounding, clamping, cubic weights, exclude_outside)
 * was resolved at load into K taps per axis and output coordinate (K = 1, 2 or 4): a source index
 * (-1: outside, which takes the extrapolation value) and a weight. Leading axes that never mix two
 * source indices read their first tap; the trailing L axes are interpolated over their K^L corners
 * in the WGSL's order (first interpolated axis fastest, zero weights skipped), so the two kernels
 * agree to the last bit wherever the GPU rounds as IEEE does. With L = 0 elements are copied as
 * 32-bit words, whatever their type (nearest on int and bool data).
 *
 * The work goes by output rows (the innermost axis): the outer coordinates advance as an odometer
 * once per row, and the K^(L-1) corners of the interpolated axes above the row are weighed once
 * per row. Along the row, interpolation runs four outputs at a time in SIMD (the source reads are
 * gathers, four scalar loads; the weighing and summing are vector ops).
 *
 * Uniform words: 0 count, 1 L, 2 K, 3 extrapolation value (bits), 4 R, then 3 arrays of R words
 * from 8: output dims, source strides (elements), first table entry of the axis.
 */
#include "tessera.h"

typedef struct {
  uint32_t count, lerp_axes, k, extrapolation, rank, pad[3];
  uint32_t axes[];
} Params;

static inline uint32_t dim_of(const Params* u, uint32_t a) { return u->axes[a]; }
static inline int32_t stride_of(const Params* u, uint32_t a) { return (int32_t)u->axes[u->rank + a]; }
static inline uint32_t table_of(const Params* u, uint32_t a) { return u->axes[2 * u->rank + a]; }

/*
 * One interpolated output: Σ over the last axis' taps t (slowest) and the corners m above it of
 * corner_w[m]·w[t]·src[corner_s[m] + idx[t]·stride], skipping zero weights like the WGSL.
 */
static inline float lerp_one(const float* src, const int32_t* idx, const float* w, uint32_t K, int32_t stride, const float* corner_w,
                             const int32_t* corner_s, uint32_t corners) {
  float acc = 0.0f;
  for (uint32_t t = 0; t < K; t++) {
    int32_t s = idx[t] * stride;
    for (uint32_t m = 0; m < corners; m++) {
      float ww = corner_w[m] * w[t];
      if (ww != 0.0f) acc += ww * src[corner_s[m] + s];
    }
  }
  return acc;
}

KERNEL(resize) void resize(const uint32_t* src, const int32_t* taps, const float* weights, uint32_t* dst, const Params* u) {
  const uint32_t R = u->rank, L = u->lerp_axes, K = u->k, last = R - 1;
  const uint32_t n = dim_of(u, last), rows = u->count / n;
  const int32_t last_stride = stride_of(u, last);
  const int32_t* row_taps = taps + table_of(u, last) * K;
  const float* row_w = weights + table_of(u, last) * K;
  // Corners over the interpolated axes above the row (none when L <= 1: one corner, weight 1).
  uint32_t corners = 1;
  for (uint32_t a = 1; a < L; a++) corners *= K;
  float corner_w[corners];
  int32_t corner_s[corners];
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
        corner_w[m] = w;
        corner_s[m] = s;
      }
      float extrapolation;
      memcpy(&extrapolation, &u->extrapolation, 4);
      const float* fsrc = (const float*)src;
      float* out = (float*)dst;
      uint32_t x = 0;
      for (; x + 4 <= n; x += 4) {
        const int32_t* i4 = row_taps + x * K;
        const float* w4 = row_w + x * K;
        if (i4[0] < 0 || i4[K] < 0 || i4[2 * K] < 0 || i4[3 * K] < 0) {
          for (uint32_t e = 0; e < 4; e++) {
            const int32_t* ie = i4 + e * K;
            out[x + e] = ie[0] < 0 ? extrapolation
                                   : lerp_one(fsrc, ie, w4 + e * K, K, last_stride, corner_w, corner_s, corners);
          }
          continue;
        }
        v128_t acc = wasm_f32x4_splat(0.0f);
        for (uint32_t t = 0; t < K; t++) {
          v128_t wt = wasm_f32x4_make(w4[t], w4[K + t], w4[2 * K + t], w4[3 * K + t]);
          int32_t s0 = i4[t] * last_stride, s1 = i4[K + t] * last_stride, s2 = i4[2 * K + t] * last_stride, s3 = i4[3 * K + t] * last_stride;
          for (uint32_t m = 0; m < corners; m++) {
            const float* p = fsrc + corner_s[m];
            v128_t ww = wasm_f32x4_mul(wasm_f32x4_splat(corner_w[m]), wt);
            v128_t v = wasm_f32x4_make(p[s0], p[s1], p[s2], p[s3]);
            // A zero weight adds nothing even where the source holds an infinity or NaN.
            v128_t term = wasm_v128_and(wasm_f32x4_mul(ww, v), wasm_f32x4_ne(ww, wasm_f32x4_splat(0.0f)));
            acc = wasm_f32x4_add(acc, term);
          }
        }
        wasm_v128_store(out + x, acc);
      }
      for (; x < n; x++) {
        const int32_t* ie = row_taps + x * K;
        out[x] = ie[0] < 0 ? extrapolation : lerp_one(fsrc, ie, row_w + x * K, K, last_stride, corner_w, corner_s, corners);
      }
    }

    for (int32_t a = (int32_t)last - 1; a >= 0; a--) {
      if (++c[a] < dim_of(u, (uint32_t)a)) break;
      c[a] = 0;
    }
  }
}
