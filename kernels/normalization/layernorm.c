/*
 * Row normalisation for LayerNormalization and InstanceNormalization, the C twin of
 * layernorm.wgsl (same parameter block, planned by layernorm.ts):
 *   y = (x − mean) · rstd · scale[s] + bias[b],  rstd = 1 / sqrt(var + ε)
 * over contiguous rows of D elements, with the optional Mean / InvStdDev outputs per row.
 *
 * Numerics: the corrected two-pass algorithm. Pass 1 gives the mean m; pass 2 sums the deviations
 * c = x − m and their squares; then mean = m + Σc / D and var = (Σc² − (Σc)² / D) / D. Σc is what
 * pass 1's rounding left over, so a large mean (rows around 1000 with unit spread) neither cancels
 * in the variance, as E[x²] − E[x]² would, nor biases the output.
 *
 * Layout: rows are contiguous; scale/bias element (row % rowMod) + (d % elemMod): LayerNorm
 * broadcasts a trailing block over rows (rowMod 1, elemMod = its size), InstanceNorm takes one
 * per channel (rowMod = C, elemMod 1). The write goes in chunks over which both parameters are
 * contiguous or constant (elemMods are trailing-dim products, so the smaller divides the larger
 * and D), 4 elements per vector.
 *
 * Bindings: x, scale, bias, y, mean, inv_std_dev. Absent ones are bound to some other tensor by
 * the planner and never touched; `flags` says which exist.
 *
 * Params: [0] rows, [1] D, [2] lanes (GPU only), [3] ε (f32), [4] scale rowMod, [5] scale elemMod,
 *         [6] bias rowMod, [7] bias elemMod, [8] flags (1 bias, 2 Mean, 4 InvStdDev).
 */
#include "tessera.h"

typedef struct {
  uint32_t rows, D, lanes;
  float epsilon;
  uint32_t scale_row_mod, scale_elem_mod, bias_row_mod, bias_elem_mod, flags;
} RowNormParams;

enum { HAS_BIAS = 1, WRITE_MEAN = 2, WRITE_INV_STD_DEV = 4 };

static float hsum(v128_t v) {
  v = wasm_f32x4_add(v, wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));
  return wasm_f32x4_extract_lane(wasm_f32x4_add(v, wasm_i32x4_shuffle(v, v, 1, 0, 3, 2)), 0);
}

/* Σx over x[0..n): two vectors in flight so the adds overlap. */
static float sum(const float* x, uint32_t n) {
  v128_t a = wasm_f32x4_splat(0.0f), b = a;
  uint32_t j = 0;
  for (; j + 8 <= n; j += 8) {
    a = wasm_f32x4_add(a, wasm_v128_load(x + j));
    b = wasm_f32x4_add(b, wasm_v128_load(x + j + 4));
  }
  for (; j + 4 <= n; j += 4) a = wasm_f32x4_add(a, wasm_v128_load(x + j));
  float s = hsum(wasm_f32x4_add(a, b));
  for (; j < n; j++) s += x[j];
  return s;
}

/* Σ(x − m) and Σ(x − m)² over x[0..n). */
static void deviations(const float* x, uint32_t n, float m, float* dev, float* sq) {
  v128_t vm = wasm_f32x4_splat(m), c1 = wasm_f32x4_splat(0.0f), c2 = c1;
  uint32_t j = 0;
  for (; j + 4 <= n; j += 4) {
    v128_t c = wasm_f32x4_sub(wasm_v128_load(x + j), vm);
    c1 = wasm_f32x4_add(c1, c);
    c2 = wasm_f32x4_add(c2, wasm_f32x4_mul(c, c));
  }
  float s1 = hsum(c1), s2 = hsum(c2);
  for (; j < n; j++) {
    float c = x[j] - m;
    s1 += c;
    s2 += c * c;
  }
  *dev = s1;
  *sq = s2;
}

/* A parameter over a chunk: contiguous from p (elemMod > 1) or the one value *p. */
static inline v128_t param(const float* p, int contiguous, uint32_t j) {
  return contiguous ? wasm_v128_load(p + j) : wasm_v128_load32_splat(p);
}

KERNEL(row_norm) void row_norm(const float* x, const float* scale, const float* bias, float* y, float* mean_out, float* rstd_out, const RowNormParams* u) {
  uint32_t D = u->D, smod = u->scale_elem_mod, bmod = u->bias_elem_mod;
  int has_bias = u->flags & HAS_BIAS;
  /* The chunk length: the smaller elemMod above 1 (constant parameters do not constrain it). */
  uint32_t chunk = D;
  if (smod > 1) chunk = smod;
  if (has_bias && bmod > 1 && bmod < chunk) chunk = bmod;
  for (uint32_t r = 0; r < u->rows; r++) {
    const float* xr = x + (size_t)r * D;
    float* yr = y + (size_t)r * D;
    float m = sum(xr, D) / (float)D, dev, sq;
    deviations(xr, D, m, &dev, &sq);
    float mean = m + dev / (float)D;
    float var = (sq - dev * dev / (float)D) / (float)D;
    float rstd = 1.0f / sqrtf((var < 0.0f ? 0.0f : var) + u->epsilon);

    const float* g0 = scale + r % u->scale_row_mod;
    const float* b0 = has_bias ? bias + r % u->bias_row_mod : 0;
    v128_t vmean = wasm_f32x4_splat(mean), vrstd = wasm_f32x4_splat(rstd);
    for (uint32_t c = 0; c < D; c += chunk) {
      const float* g = smod > 1 ? g0 + c % smod : g0;
      const float* b = has_bias && bmod > 1 ? b0 + c % bmod : b0;
      const float* xc = xr + c;
      float* yc = yr + c;
      uint32_t j = 0;
      for (; j + 4 <= chunk; j += 4) {
        v128_t v = wasm_f32x4_mul(wasm_f32x4_mul(wasm_f32x4_sub(wasm_v128_load(xc + j), vmean), vrstd), param(g, smod > 1, j));
        if (has_bias) v = wasm_f32x4_add(v, param(b, bmod > 1, j));
        wasm_v128_store(yc + j, v);
      }
      for (; j < chunk; j++) {
        float v = (xc[j] - mean) * rstd * g[smod > 1 ? j : 0];
        yc[j] = has_bias ? v + b[bmod > 1 ? j : 0] : v;
      }
    }
    if (u->flags & WRITE_MEAN) mean_out[r] = mean;
    if (u->flags & WRITE_INV_STD_DEV) rstd_out[r] = rstd;
  }
}
