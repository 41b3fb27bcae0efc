/*
 * The one f32 GEMM core behind MatMul, Gemm and every non-depthwise Conv on the CPU:
 *   out[m][n] = act(alpha * sum_k A(m,k) * B(k,n) + beta * C(m,n))
 *
 * Layout. A is read one scalar at a time (broadcast to a vector), so any strides work:
 *   A(m,k) = a[(m/4)*a_tile + (m%4)*sam + k*sak]
 * which covers row-major A (a_tile = 4*sam), transposed A, and conv weights pre-packed at load as
 * [M/4][K][4] (sam 1, sak 4, a_tile 4K: the four broadcasts of one k share a cache line).
 * B is read as 8-column panels: columns [8p, 8p+8) of row k are the 8 floats at
 * b + p*b_panel + k*ldb; callers pass packed panels ([N/8][K][8], zero-padded: ldb 8, b_panel 8K),
 * either packed at load (constant weights) or by pack_b_panels / im2col a block at a time. Reading
 * a row-major B in place (ldb = row stride) works too but measured half as fast on 1x1 convs:
 * rows 4 KiB apart (a 32x32 plane) fall into one L1 set and evict each other, where a packed
 * panel is one contiguous stream.
 * C (bias) is read through strides (scm, scn), 0 along broadcast axes. out is row-major (ldo).
 * R, when not NULL, is a residual laid out like out (ldo), added after C and before the activation:
 * a conv's fused skip input (kernels/conv/conv2d.c), out = act(A x B + bias + R).
 *
 * Blocking. The micro-kernel keeps a 4x8 tile of out in 8 f32x4 accumulators; per k it loads two B
 * vectors and four A broadcasts for 16 mul/add, so it is bound by the SIMD ALU (SIMD128 has no
 * FMA), not by loads. V8's x64 code for it holds 15 xmm registers (8 accumulators, 2 B vectors, 4
 * broadcasts, 1 product), all it allocates: no wider or taller tile fits. One- and two-row tiles (M
 * tails, M = 1 Gemm heads) split K into 2 interleaved partial sums so the add latency does not
 * serialise 2 accumulators (4 for one row measured 10-25% slower than 2 on K = 256..3264: its extra
 * loop state costs more than the latency it hides). K is cut into KC blocks so one B panel (KC x 8
 * floats, 16 KiB) stays in L1 while every A tile of an MC block streams past it; M into MC blocks
 * so those A rows (MC x KC, 128 KiB) stay in L2 (KC 512 / MC 64 measured 5-15% faster than 256 /
 * 128 on the STFT conv and 3x3 convs, and than 128 / 32). Partial sums of earlier K blocks go
 * through out; the epilogue (alpha, C, activation) runs on the last block, in registers. With at
 * most 4 rows there is one tile per panel and nothing to reuse a B block, so K is not cut: each
 * panel streams whole (M = 1 Gemm heads measured 5-9% faster than with KC 512, the prefetcher
 * following one stream instead of restarting every 16 KiB). Unrolling the k loop measured 25%
 * slower: V8 then runs out of its 15 v128 registers.
 */
#ifndef TESSERA_GEMM_CORE_H
#define TESSERA_GEMM_CORE_H

#include "tessera.h"

#define GEMM_KC 512
#define GEMM_MC 64
#define INLINE static inline __attribute__((always_inline))

/* Fused activation codes; kernels/matmul/cpu.ts packs them (ACTIVATION_CODES). */
enum { ACT_NONE, ACT_RELU, ACT_LEAKY_RELU, ACT_CLIP, ACT_SIGMOID, ACT_HARD_SIGMOID, ACT_HARD_SWISH, ACT_TANH, ACT_GELU };

typedef struct {
  uint32_t kind;
  float alpha, beta;
} Act;

/* Scalar forms, for the lanes the vector form cannot do in SIMD (transcendental activations). */
INLINE float act_scalar(float x, const Act* a) {
  switch (a->kind) {
    case ACT_SIGMOID: return 1.0f / (1.0f + expf(-x));
    case ACT_TANH: return tanhf(x);
    case ACT_GELU: return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
    default: return x;
  }
}

/* pmax/pmin (one instruction each in V8) keep NaN where the reference's Math.max/min would. */
INLINE v128_t act_vec(v128_t x, const Act* a) {
  const v128_t zero = wasm_f32x4_splat(0.0f);
  switch (a->kind) {
    case ACT_NONE: return x;
    case ACT_RELU: return wasm_f32x4_pmax(x, zero);
    case ACT_LEAKY_RELU: return wasm_v128_bitselect(x, wasm_f32x4_mul(x, wasm_f32x4_splat(a->alpha)), wasm_f32x4_ge(x, zero));
    case ACT_CLIP: return wasm_f32x4_pmin(wasm_f32x4_pmax(x, wasm_f32x4_splat(a->alpha)), wasm_f32x4_splat(a->beta));
    case ACT_HARD_SIGMOID: {
      v128_t y = wasm_f32x4_add(wasm_f32x4_mul(x, wasm_f32x4_splat(a->alpha)), wasm_f32x4_splat(a->beta));
      return wasm_f32x4_pmin(wasm_f32x4_pmax(y, zero), wasm_f32x4_splat(1.0f));
    }
    case ACT_HARD_SWISH: {
      v128_t y = wasm_f32x4_add(wasm_f32x4_div(x, wasm_f32x4_splat(6.0f)), wasm_f32x4_splat(0.5f));
      return wasm_f32x4_mul(x, wasm_f32x4_pmin(wasm_f32x4_pmax(y, zero), wasm_f32x4_splat(1.0f)));
    }
    default: {
      float v[4];
      wasm_v128_store(v, x);
      return wasm_f32x4_make(act_scalar(v[0], a), act_scalar(v[1], a), act_scalar(v[2], a), act_scalar(v[3], a));
    }
  }
}

/*
 * The activations that are a clamp (none, Relu, Clip) as bounds [lo, hi]: pmin(pmax(x, lo), hi)
 * equals act_vec for them, NaN included. An epilogue inside a hot loop uses it to leave out
 * act_vec's switch, which measured a third of a small int8 conv. 0 for the other activations.
 */
INLINE int act_clamp(const Act* a, float* lo, float* hi) {
  switch (a->kind) {
    case ACT_NONE: *lo = -INFINITY, *hi = INFINITY; return 1;
    case ACT_RELU: *lo = 0.0f, *hi = INFINITY; return 1;
    case ACT_CLIP: *lo = a->alpha, *hi = a->beta; return 1;
    default: return 0;
  }
}

/*
 * Lane j = the sum of the four lanes of xj, for four vectors at once: a 4x4 transpose folded into
 * the adds, (x[0] + x[2]) + (x[1] + x[3]) per vector. One for f32 lanes, one for i32 lanes.
 */
#define DEFINE_SUM4(name, add)                                                                          \
  INLINE v128_t name(v128_t x0, v128_t x1, v128_t x2, v128_t x3) {                                      \
    const v128_t s01 = add(wasm_i32x4_shuffle(x0, x1, 0, 4, 1, 5), wasm_i32x4_shuffle(x0, x1, 2, 6, 3, 7)); \
    const v128_t s23 = add(wasm_i32x4_shuffle(x2, x3, 0, 4, 1, 5), wasm_i32x4_shuffle(x2, x3, 2, 6, 3, 7)); \
    return add(wasm_i32x4_shuffle(s01, s23, 0, 1, 4, 5), wasm_i32x4_shuffle(s01, s23, 2, 3, 6, 7));        \
  }
DEFINE_SUM4(hsum4_f32, wasm_f32x4_add)
DEFINE_SUM4(hsum4_i32, wasm_i32x4_add)

/* Up to 4 floats at stride s (0 = broadcast); lanes past `count` read as 0 and are never stored. */
INLINE v128_t load_lanes(const float* p, int s, int count) {
  if (s == 0) return wasm_v128_load32_splat(p);
  if (s == 1 && count >= 4) return wasm_v128_load(p);
  float v[4] = {0, 0, 0, 0};
  for (int i = 0; i < count && i < 4; i++) v[i] = p[i * s];
  return wasm_v128_load(v);
}

INLINE void store_lanes(float* p, v128_t x, int count) {
  if (count >= 4) {
    wasm_v128_store(p, x);
    return;
  }
  float v[4];
  wasm_v128_store(v, x);
  for (int i = 0; i < count; i++) p[i] = v[i];
}

typedef struct {
  int m, n, k;
  const float* a;
  int sam, sak, a_tile;
  const float* b;
  int ldb, b_panel;
  float* out;
  int ldo;
  const float* c; /* NULL: no C */
  int scm, scn;
  float alpha, beta;
  const float* r; /* NULL: no residual */
  Act act;
} GemmArgs;

/*
 * One MR x 8 tile of out over k in [k0, k0 + kc). S interleaved partial sums (K split mod S) give
 * short tiles enough independent add chains; they are summed before the epilogue.
 */
INLINE void gemm_tile(const GemmArgs* g, const int MR, const int S, int m0, int p, int k0, int kc, int first, int last) {
  v128_t acc[4][4][2];
  for (int s = 0; s < S; s++)
    for (int i = 0; i < MR; i++) acc[s][i][0] = acc[s][i][1] = wasm_f32x4_splat(0.0f);
  const float* ap = g->a + (m0 / 4) * g->a_tile + (m0 % 4) * g->sam + k0 * g->sak;
  const float* bp = g->b + p * g->b_panel + k0 * g->ldb;
  const int sam = g->sam, sak = g->sak, ldb = g->ldb;
  int k = 0;
  for (; k + S <= kc; k += S) {
    for (int s = 0; s < S; s++) {
      const v128_t b0 = wasm_v128_load(bp), b1 = wasm_v128_load(bp + 4);
      for (int i = 0; i < MR; i++) {
        const v128_t av = wasm_v128_load32_splat(ap + i * sam);
        acc[s][i][0] = wasm_f32x4_add(acc[s][i][0], wasm_f32x4_mul(av, b0));
        acc[s][i][1] = wasm_f32x4_add(acc[s][i][1], wasm_f32x4_mul(av, b1));
      }
      ap += sak;
      bp += ldb;
    }
  }
  for (; k < kc; k++) {
    const v128_t b0 = wasm_v128_load(bp), b1 = wasm_v128_load(bp + 4);
    for (int i = 0; i < MR; i++) {
      const v128_t av = wasm_v128_load32_splat(ap + i * sam);
      acc[0][i][0] = wasm_f32x4_add(acc[0][i][0], wasm_f32x4_mul(av, b0));
      acc[0][i][1] = wasm_f32x4_add(acc[0][i][1], wasm_f32x4_mul(av, b1));
    }
    ap += sak;
    bp += ldb;
  }
  for (int s = 1; s < S; s++)
    for (int i = 0; i < MR; i++) {
      acc[0][i][0] = wasm_f32x4_add(acc[0][i][0], acc[s][i][0]);
      acc[0][i][1] = wasm_f32x4_add(acc[0][i][1], acc[s][i][1]);
    }

  /* Locals, so the stores to out (floats, which may alias float fields) do not force reloads. */
  const int n0 = p * 8, nv = min_i(8, g->n - n0), ldo = g->ldo, scm = g->scm, scn = g->scn;
  const float alpha = g->alpha, beta = g->beta;
  const Act act = g->act;
  const float* c = g->c;
  const float* r = g->r;
  float* out = g->out;
  /*
   * The conv case (a bias per row or none, no alpha/beta, whole panel, one K block) in fewer steps:
   * measured 3-12% faster on pointwise convs, where K is small and the epilogue weighs.
   */
  if (first && last && nv == 8 && alpha == 1.0f && (!c || (scn == 0 && beta == 1.0f))) {
    for (int i = 0; i < MR; i++) {
      float* o = out + (m0 + i) * ldo + n0;
      const v128_t cv = c ? wasm_v128_load32_splat(c + (m0 + i) * scm) : wasm_f32x4_splat(0.0f);
      v128_t lo = wasm_f32x4_add(acc[0][i][0], cv), hi = wasm_f32x4_add(acc[0][i][1], cv);
      if (r) {
        const float* q = r + (m0 + i) * ldo + n0;
        lo = wasm_f32x4_add(lo, wasm_v128_load(q));
        hi = wasm_f32x4_add(hi, wasm_v128_load(q + 4));
      }
      wasm_v128_store(o, act_vec(lo, &act));
      wasm_v128_store(o + 4, act_vec(hi, &act));
    }
    return;
  }
  for (int i = 0; i < MR; i++) {
    float* o = out + (m0 + i) * ldo + n0;
    for (int h = 0; h < 2; h++) {
      const int cnt = nv - 4 * h;
      if (cnt <= 0) break;
      v128_t v = acc[0][i][h];
      if (!first) v = wasm_f32x4_add(v, load_lanes(o + 4 * h, 1, cnt));
      if (last) {
        if (alpha != 1.0f) v = wasm_f32x4_mul(v, wasm_f32x4_splat(alpha));
        if (c) {
          const v128_t cv = load_lanes(c + (m0 + i) * scm + (n0 + 4 * h) * scn, scn, cnt);
          v = wasm_f32x4_add(v, beta == 1.0f ? cv : wasm_f32x4_mul(cv, wasm_f32x4_splat(beta)));
        }
        if (r) v = wasm_f32x4_add(v, load_lanes(r + (m0 + i) * ldo + n0 + 4 * h, 1, cnt));
        v = act_vec(v, &act);
      }
      store_lanes(o + 4 * h, v, cnt);
    }
  }
}

/* Computes the whole of out (g->m x g->n) from the panels g describes. */
static inline void gemm_core(const GemmArgs* g) {
  const int panels = (g->n + 7) / 8;
  if (g->m <= 0 || panels <= 0) return;
  const int kb = g->m <= 4 ? max_i(g->k, 1) : GEMM_KC;
  for (int k0 = 0; k0 < g->k || k0 == 0; k0 += kb) {
    const int kc = min_i(kb, g->k - k0);
    const int first = k0 == 0, last = k0 + kc >= g->k;
    for (int mb = 0; mb < g->m; mb += GEMM_MC) {
      const int me = min_i(g->m, mb + GEMM_MC);
      for (int p = 0; p < panels; p++) {
        int m0 = mb;
        for (; m0 + 4 <= me; m0 += 4) gemm_tile(g, 4, 1, m0, p, k0, kc, first, last);
        switch (me - m0) {
          case 3: gemm_tile(g, 3, 1, m0, p, k0, kc, first, last); break;
          case 2: gemm_tile(g, 2, 2, m0, p, k0, kc, first, last); break;
          case 1: gemm_tile(g, 1, 2, m0, p, k0, kc, first, last); break;
          default: break;
        }
      }
    }
  }
}

/*
 * Packs columns [n0, n0 + cols) of a strided K x N source into ceil(cols/8) panels of K x 8 at
 * dst, zero-padding the last, so the core can read them with ldb 8 and b_panel 8K.
 */
static inline void pack_b_panels(float* dst, const float* src, int sk, int sn, int k, int n0, int cols) {
  for (int p = 0; p * 8 < cols; p++) {
    const int nv = min_i(8, cols - p * 8);
    const float* s = src + (n0 + p * 8) * sn;
    float* d = dst + p * 8 * k;
    if (sn == 1 && nv == 8) {
      for (int kk = 0; kk < k; kk++, s += sk, d += 8) {
        wasm_v128_store(d, wasm_v128_load(s));
        wasm_v128_store(d + 4, wasm_v128_load(s + 4));
      }
      continue;
    }
    for (int kk = 0; kk < k; kk++, s += sk, d += 8) {
      int j = 0;
      for (; j < nv; j++) d[j] = s[j * sn];
      for (; j < 8; j++) d[j] = 0.0f;
    }
  }
}

#endif
