/*
 * Depthwise convolution (one input channel per group, any channel multiplier) with fused bias and
 * activation, the C twin of depthwise.wgsl:
 *   out[n][co][oh][ow] = act(bias[co] + sum over kh, kw of
 *                            x[n][co / mult][oh*sh - ph + kh*dh][ow*sw - pw + kw*dw] * W[co][kh][kw])
 *
 * Layout: x and out NCHW; W as in ONNX ([cout][KH][KW], already dense per channel); bias dense.
 * A channel has too little reuse for a GEMM (K = KH*KW), so this is a direct kernel vectorized
 * along the output row: 16 outputs (4 f32x4 accumulators) per step, each tap one weight broadcast
 * and four input loads. The input plane is first copied into a zero-padded scratch plane
 * (hp x wp, sized in cpu.ts so the last vector of a row reads in bounds), which removes every
 * bounds check from the inner loop for the price of one copy per input channel (1/(KH*KW) of the
 * multiply-adds). Stride 1 reads are plain unaligned loads, stride 2 two loads and an even-lane
 * shuffle; other strides gather lanes one by one.
 * depthwise_residual_f32 also adds `res` (NCHW, out's shape) before the activation: a residual
 * Add the planner fused into the conv (core/runtime/fuse-residual.ts).
 */
#include "conv-params.h"

INLINE v128_t load_strided(const float* p, const int S, int s) {
  if (S == 1) return wasm_v128_load(p);
  if (S == 2) return wasm_i32x4_shuffle(wasm_v128_load(p), wasm_v128_load(p + 4), 0, 2, 4, 6);
  return wasm_f32x4_make(p[0], p[s], p[2 * s], p[3 * s]);
}

/*
 * One output row; `in` is the padded plane at the row's first tap row, `res` the residual row or
 * NULL. S is the stride along the row when it is 1 or 2, else 0 (use s); KW the kernel width when
 * it is 3, else 0 (use u's):
 * unrolling a row of 3 taps measured ~10% faster at stride 1; unrolling 5 taps or all KH x KW
 * measured slower (V8 runs out of v128 registers and spills).
 */
INLINE void dw_row(float* o, const float* res, const float* in, const float* wt, const ConvU* u, v128_t bias, const int S, int s, const int KW) {
  const int st = S ? S : s, wo = (int)u->wo, wp = (int)u->wp, kh = (int)u->kh, kw = KW ? KW : (int)u->kw;
  const int dh = u->dh, dw = u->dw;
  int ow = 0;
  for (; ow + 16 <= wo; ow += 16) {
    v128_t a0 = bias, a1 = bias, a2 = bias, a3 = bias;
    for (int i = 0; i < kh; i++) {
      const float* r = in + i * dh * wp + ow * st;
      for (int j = 0; j < kw; j++) {
        const float* q = r + j * dw;
        const v128_t wv = wasm_v128_load32_splat(wt + i * kw + j);
        a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(load_strided(q, S, s), wv));
        a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(load_strided(q + 4 * st, S, s), wv));
        a2 = wasm_f32x4_add(a2, wasm_f32x4_mul(load_strided(q + 8 * st, S, s), wv));
        a3 = wasm_f32x4_add(a3, wasm_f32x4_mul(load_strided(q + 12 * st, S, s), wv));
      }
    }
    if (res) {
      a0 = wasm_f32x4_add(a0, wasm_v128_load(res + ow));
      a1 = wasm_f32x4_add(a1, wasm_v128_load(res + ow + 4));
      a2 = wasm_f32x4_add(a2, wasm_v128_load(res + ow + 8));
      a3 = wasm_f32x4_add(a3, wasm_v128_load(res + ow + 12));
    }
    wasm_v128_store(o + ow, act_vec(a0, &u->act));
    wasm_v128_store(o + ow + 4, act_vec(a1, &u->act));
    wasm_v128_store(o + ow + 8, act_vec(a2, &u->act));
    wasm_v128_store(o + ow + 12, act_vec(a3, &u->act));
  }
  for (; ow < wo; ow += 4) {
    v128_t a = bias;
    for (int i = 0; i < kh; i++) {
      const float* r = in + i * dh * wp + ow * st;
      for (int j = 0; j < kw; j++) a = wasm_f32x4_add(a, wasm_f32x4_mul(load_strided(r + j * dw, S, s), wasm_v128_load32_splat(wt + i * kw + j)));
    }
    if (res) a = wasm_f32x4_add(a, load_lanes(res + ow, 1, wo - ow));
    store_lanes(o + ow, act_vec(a, &u->act), wo - ow);
  }
}

/* Copies one input plane into the zero-padded hp x wp scratch plane (columns past wp dropped). */
static void pad_plane(float* dst, const float* x, const ConvU* u) {
  const int h = (int)u->h, w = (int)u->w, hp = (int)u->hp, wp = (int)u->wp, ph = u->ph, pw = u->pw;
  const int c0 = min_i(pw, wp), c1 = min_i(pw + w, wp);
  for (int r = 0; r < hp; r++) {
    float* d = dst + r * wp;
    const int ih = r - ph;
    if (ih < 0 || ih >= h || c1 <= c0) {
      memset(d, 0, (size_t)wp * 4);
      continue;
    }
    memset(d, 0, (size_t)c0 * 4);
    memcpy(d + c0, x + ih * w, (size_t)(c1 - c0) * 4);
    memset(d + c1, 0, (size_t)(wp - c1) * 4);
  }
}

/* res: NULL, or the residual added before the activation. */
static void depthwise(const float* x, const float* w, const float* bias, const float* res, float* out, float* scratch, const ConvU* u) {
  const int taps = (int)(u->kh * u->kw), pixels = (int)(u->ho * u->wo), in_plane = (int)(u->h * u->w);
  const int mult = (int)u->cout_g, sh = u->sh, sw = u->sw, wp = (int)u->wp;
  for (uint32_t n = 0; n < u->batch; n++) {
    for (int co = 0; co < (int)u->cout; co++) {
      if (co % mult == 0) pad_plane(scratch, x + (n * u->cin + co / mult) * in_plane, u);
      const float* wt = w + co * taps;
      const v128_t b = wasm_v128_load32_splat(bias + co);
      float* o = out + (n * u->cout + co) * pixels;
      const float* rr = res ? res + (n * u->cout + co) * pixels : NULL;
      for (int oh = 0; oh < (int)u->ho; oh++, o += u->wo, rr = rr ? rr + u->wo : NULL) {
        const float* in = scratch + oh * sh * wp;
        if (sw == 1 && u->kw == 3) dw_row(o, rr, in, wt, u, b, 1, 1, 3);
        else if (sw == 2 && u->kw == 3) dw_row(o, rr, in, wt, u, b, 2, 2, 3);
        else if (sw == 1) dw_row(o, rr, in, wt, u, b, 1, 1, 0);
        else if (sw == 2) dw_row(o, rr, in, wt, u, b, 2, 2, 0);
        else dw_row(o, rr, in, wt, u, b, 0, sw, 0);
      }
    }
  }
}

CONV_ENTRY_POINTS(depthwise)
