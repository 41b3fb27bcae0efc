/*
 * QConv on the CPU (the C twin of im2row.wgsl + qgemm.wgsl), NCHW, any group, and with
 * qconv_q4 (at the end) Q4Conv's static-scale int8 path on the same core. Per image b, with
 * its scale s (static, or dynamic over the whole image), and per group:
 *   acc[n][p] = sum_k w[n][k] * q[k][p]   (exact int32; q the quantized patch of output pixel p)
 *   out[b][g*coutG + n][p] = act(f32(acc) * (s * wscale[n]) + bias[n])
 *
 * Why not the GEMM core (qgemm-core.h): with K in the vector lanes every output needs a
 * horizontal sum, and a channel's outputs lie P apart, so stores are strided; with a conv's small
 * K (9 for a first layer, 144 for 3x3x16) that epilogue costs about as much as the multiplies.
 * Here the lanes hold 4 output pixels: one i32x4.dot_i16x8_s multiplies 2 taps of 4 pixels by a
 * broadcast weight pair and adds them into that channel's 4 pixel sums (pairwise products ≤
 * 2·127², exact), so there is no horizontal sum and a channel stores 4 consecutive pixels.
 *
 * Layout. The image is quantized once (quantize.h) into zero-padded int16 planes [cIn][hp][wp]
 * (padding quantizes to 0): each input is quantized once, not kh*kw times, and the gather needs no
 * bounds tests. Per group and chunk of output pixels, im2row writes quads
 * [chunk/4][K2][4 pixels][2 taps] int16, K2 = ceil(K/2), taps in ONNX weight order (c, kh, kw)
 * read through a table of plane offsets made once per call; an odd K's last tap pair and pixels
 * past P are 0. Four pixels of one output row at stride 1 see each tap as 4 neighbouring values:
 * two 8-byte loads and an interleaving shuffle make a quad's vector, instead of 8 scalar copies
 * (a first layer, Cin = 1, is all gather and no reuse); a quad that wraps to the next row blends
 * two such loads. Other quads (stride ≠ 1, rows under 4 pixels, the tail) go pixel by pixel. W is repacked at load (cpu.ts) into
 * [group][ceil(coutG/4)][K2][4 channels][2 taps] int16, channels zero-padded to the block: a
 * channel's pair is one 32-bit splat load, and a block's tap pairs stream contiguously.
 *
 * Blocking. A tile is 2 quads (8 pixels; 1 quad for an odd tail) x 4 channels in 8 i32x4
 * accumulators; per tap pair it loads 2 activation vectors and 4 weight splats for 8 dots, so
 * each activation vector serves 4 channels (8 accumulators + 2 A + 1 W + 1 product: within V8's
 * 15 xmm registers; 1 quad x 8 channels and 3 quads x 4 measured 35% and 15% slower on 3x3 16→32).
 * Groups of 1 or 2 channels (depthwise) take 4 quads x 1 or 2 channels instead, so no multiplies
 * go to a block's zero channels. Pixel tiles are the outer loop and channel tiles the inner one:
 * a tile's quads (8 x K2 x 4 bytes) stay in L1 while every block's weights pass over them. The epilogue
 * (convert, scale, bias, activation) runs in registers and stores 4 pixels per channel (fewer
 * past P). The chunk (about 32 KiB of quads) keeps the gathered quads in cache until used.
 * Activations that are a clamp (none, Relu, Clip) run as pmax/pmin in tiles specialised for
 * them (act_clamp): act_vec's switch inside the epilogue cost a third of a first layer.
 * Scratch: the padded planes, then the chunk's quads, then the K tap offsets (int32).
 */
#include "../matmul/gemm-core.h"
#include "quantize.h"

/*
 * Quads per Q4 tile: its 4 channels keep an f32 sum beside each int32 one, so 2 quads (16
 * accumulators) spill past V8's 15 v128 registers: 61 µs against 49 on the CNN's 3x3 16→32 layer.
 */
#define Q4_PR 1

typedef struct {
  uint32_t batch, cin, h, w, cout, ho, wo, kh, kw;
  int32_t sh, sw, ph, pw, dh, dw;
  uint32_t group, cin_g, cout_g, k, k2, hp, wp, chunk;
  float act_scale, act_inv;
  uint32_t dynamic;
  Act act;
  uint32_t q4_groups; /* qconv_q4: K's groups of 32 taps; 0 for qconv_i8 */
} QConvU;

static void quantize_planes(int16_t* dst, const float* x, const QConvU* u, float inv) {
  const int h = (int)u->h, w = (int)u->w, hp = (int)u->hp, wp = (int)u->wp;
  memset(dst, 0, (size_t)u->cin * hp * wp * 2);
  for (int c = 0; c < (int)u->cin; c++)
    for (int r = 0; r < h; r++) quantize_run(dst + (c * hp + r + u->ph) * wp + u->pw, x + (c * h + r) * w, w, inv);
}

/* Offsets of the k taps (c, ky, kx) in the padded planes from a pixel's top-left corner. */
static void tap_offsets(int32_t* off, const QConvU* u) {
  const int hp = (int)u->hp, wp = (int)u->wp;
  int t = 0;
  for (int ci = 0; ci < (int)u->cin_g; ci++)
    for (int ky = 0; ky < (int)u->kh; ky++)
      for (int kx = 0; kx < (int)u->kw; kx++) off[t++] = (ci * hp + ky * u->dh) * wp + kx * u->dw;
}

/*
 * A whole quad at stride 1: its pixels are 4 neighbours in one output row, or (SPLIT) the last m
 * of one row and the first 4 - m of the next (wo >= 4). Each tap is then 4 consecutive values, or
 * lanes of two such loads blended by `first_lanes` (the second load starts m values before the
 * next row's pixel 0, so its lanes m..3 are that row's); pairs of taps are interleaved into
 * [4 pixels][2 taps]. Loads may read up to 3 values past a row (masked off or unused).
 */
INLINE void gather_quad_s1(int16_t* dst, const int16_t* first, const int16_t* second, v128_t first_lanes, const int32_t* off, int k, const int SPLIT) {
#define TAP(t) (SPLIT ? wasm_v128_bitselect(wasm_v128_load64_zero(first + off[t]), wasm_v128_load64_zero(second + off[t]), first_lanes) \
                      : wasm_v128_load64_zero(first + off[t]))
  int t = 0;
  for (; t + 2 <= k; t += 2, dst += 8) wasm_v128_store(dst, wasm_i16x8_shuffle(TAP(t), TAP(t + 1), 0, 8, 1, 9, 2, 10, 3, 11));
  if (t < k) wasm_v128_store(dst, wasm_i16x8_shuffle(TAP(t), wasm_i16x8_splat(0), 0, 8, 1, 9, 2, 10, 3, 11));
#undef TAP
}

/* Any quad, pixel by pixel: `count` pixels from their corners, the rest (past P) zero. */
static void gather_quad(int16_t* dst, const int16_t* const* corner, int count, const int32_t* off, int k, int k2) {
  for (int i = 0; i < 4; i++) {
    int16_t* d = dst + 2 * i;
    if (i >= count) {
      for (int j = 0; j < k2; j++) d[8 * j] = d[8 * j + 1] = 0;
      continue;
    }
    for (int t = 0; t < k; t++) d[(t >> 1) * 8 + (t & 1)] = corner[i][off[t]];
    if (k & 1) d[(k >> 1) * 8 + 1] = 0;
  }
}

/* The quads of output pixels [p0, p0 + count) of one group, whose planes start at `planes`. */
static void im2row(int16_t* quads, const int16_t* planes, const int32_t* off, const QConvU* u, int p0, int count) {
  const int wp = (int)u->wp, wo = (int)u->wo, k = (int)u->k, k2 = (int)u->k2, sh = u->sh, sw = u->sw;
  for (int i = 0; i < count; i += 4, quads += k2 * 8) {
    const int n = min_i(4, count - i);
    int oy = (p0 + i) / wo, ox = (p0 + i) % wo;
    const int16_t* corner = planes + oy * sh * wp + ox * sw;
    if (sw == 1 && n == 4 && wo >= 4) {
      const int m = wo - ox;
      if (m >= 4) {
        gather_quad_s1(quads, corner, corner, wasm_i16x8_splat(-1), off, k, 0);
      } else {
        const v128_t first_lanes = wasm_i16x8_gt(wasm_i16x8_splat((int16_t)m), wasm_i16x8_make(0, 1, 2, 3, 4, 5, 6, 7));
        gather_quad_s1(quads, corner, planes + (oy + 1) * sh * wp - m, first_lanes, off, k, 1);
      }
      continue;
    }
    const int16_t* corners[4];
    for (int j = 0; j < n; j++) {
      corners[j] = planes + oy * sh * wp + ox * sw;
      if (++ox == wo) ox = 0, oy++;
    }
    gather_quad(quads, corners, n, off, k, k2);
  }
}

typedef struct {
  const int16_t* quads; /* the chunk's quads */
  const int16_t* w;     /* the group's blocks */
  const float* wscale;  /* the group's, padded to whole blocks; qconv_q4: [channel][q4 group] scales */
  int q4_groups;
  const float* bias;
  float* out;           /* the group's channel 0 of this image */
  int k2, pixels, cout_g, p0;
  float s;
  Act act;
  v128_t lo, hi; /* the activation's bounds when it is a clamp (act_clamp) */
} ConvTile;

/* `pairs` tap pairs of PR quads x NR channels into acc, from a and w (quads k2 pairs apart). */
INLINE void dot_pairs(v128_t acc[4][4], const int16_t* a, const int16_t* w, int k2, int pairs, const int PR, const int NR) {
  for (int j = 0; j < pairs; j++, a += 8, w += 8) {
    v128_t av[4];
    for (int i = 0; i < PR; i++) av[i] = wasm_v128_load(a + i * k2 * 8);
    for (int c = 0; c < NR; c++) {
      const v128_t wv = wasm_v128_load32_splat(w + 2 * c);
      for (int i = 0; i < PR; i++) acc[i][c] = wasm_i32x4_add(acc[i][c], wasm_i32x4_dot_i16x8(av[i], wv));
    }
  }
}

/*
 * PR quads from quad q of the chunk x NR channels from channel n0 (n0 % 4 + NR <= 4: one block);
 * CLAMP: the activation is [lo, hi]. Q4 (qconv_q4): each group of 32 taps (16 pairs) has its own
 * int32 sum, folded in f32 steps as t = t + f32(acc_g) * scale[n][g], g ascending, then
 * out = t * s + bias: Q4MatMul's int8 rule (kernels/int4/q4matmul-i8.c), bit for bit.
 */
INLINE void conv_tile(const ConvTile* t, const int PR, const int NR, const int CLAMP, const int Q4, int q, int n0) {
  v128_t acc[4][4], sum[4][4];
  const int k2 = t->k2;
  const int16_t* a = t->quads + q * k2 * 8;
  const int16_t* w = t->w + (n0 / 4) * k2 * 8 + 2 * (n0 % 4);
  for (int i = 0; i < PR; i++)
    for (int c = 0; c < NR; c++) acc[i][c] = wasm_i32x4_splat(0), sum[i][c] = wasm_f32x4_splat(0.0f);
  if (!Q4) {
    dot_pairs(acc, a, w, k2, k2, PR, NR);
  } else {
    for (int g = 0; g < t->q4_groups; g++) {
      dot_pairs(acc, a + g * 16 * 8, w + g * 16 * 8, k2, 16, PR, NR);
      for (int c = 0; c < NR; c++) {
        const v128_t scale = wasm_f32x4_splat(t->wscale[(n0 + c) * t->q4_groups + g]);
        for (int i = 0; i < PR; i++) {
          sum[i][c] = wasm_f32x4_add(sum[i][c], wasm_f32x4_mul(wasm_f32x4_convert_i32x4(acc[i][c]), scale));
          acc[i][c] = wasm_i32x4_splat(0);
        }
      }
    }
  }
  const int nv = min_i(NR, t->cout_g - n0);
  for (int c = 0; c < nv; c++) {
    const v128_t scale = wasm_f32x4_splat(Q4 ? t->s : t->s * t->wscale[n0 + c]), bias = wasm_f32x4_splat(t->bias[n0 + c]);
    for (int i = 0; i < PR; i++) {
      const int p = t->p0 + (q + i) * 4;
      const v128_t z = wasm_f32x4_add(wasm_f32x4_mul(Q4 ? sum[i][c] : wasm_f32x4_convert_i32x4(acc[i][c]), scale), bias);
      const v128_t y = CLAMP ? wasm_f32x4_pmin(wasm_f32x4_pmax(z, t->lo), t->hi) : act_vec(z, &t->act);
      store_lanes(t->out + (n0 + c) * t->pixels + p, y, t->pixels - p);
    }
  }
}

/* All tiles of a chunk of nq quads, pixel tiles outer and channel tiles inner (PR quads x NR channels). */
INLINE void conv_tiles_nr(const ConvTile* t, int nq, const int PR, const int NR, const int CLAMP, const int Q4) {
  int q = 0;
  for (; q + PR <= nq; q += PR)
    for (int n0 = 0; n0 < t->cout_g; n0 += NR) conv_tile(t, PR, NR, CLAMP, Q4, q, n0);
  for (; q < nq; q++)
    for (int n0 = 0; n0 < t->cout_g; n0 += NR) conv_tile(t, 1, NR, CLAMP, Q4, q, n0);
}

/* The tile shape for the group's channel count (see the header). */
INLINE void conv_tiles(const ConvTile* t, int nq, const int CLAMP, const int Q4) {
  if (Q4) conv_tiles_nr(t, nq, Q4_PR, 4, CLAMP, 1);
  else if (t->cout_g == 1) conv_tiles_nr(t, nq, 4, 1, CLAMP, 0);
  else if (t->cout_g == 2) conv_tiles_nr(t, nq, 4, 2, CLAMP, 0);
  else conv_tiles_nr(t, nq, 2, 4, CLAMP, 0);
}

INLINE void qconv(const float* x, const int16_t* w, const float* wscale, const float* bias, float* out, int16_t* scratch, const QConvU* u, const int Q4) {
  const int P = (int)(u->ho * u->wo), image = (int)(u->cin * u->h * u->w), chunk = (int)u->chunk;
  const int cout_g = (int)u->cout_g, blocks = (cout_g + 3) / 4, k2 = (int)u->k2;
  const size_t group_planes = (size_t)u->cin_g * u->hp * u->wp;
  int16_t* planes = scratch;
  int16_t* quads = planes + (((size_t)u->cin * u->hp * u->wp + 7) & ~(size_t)7);
  int32_t* off = (int32_t*)(quads + (size_t)chunk * k2 * 2);
  tap_offsets(off, u);
  /* Q4's K runs to whole groups of 32 taps: the pairs past the conv's K stay zero (im2row never writes them). */
  if (Q4) memset(quads, 0, (size_t)chunk * k2 * 4);
  float lo = 0.0f, hi = 0.0f;
  const int clamp = act_clamp(&u->act, &lo, &hi);
  for (int b = 0; b < (int)u->batch; b++) {
    float s = u->act_scale, inv = u->act_inv;
    if (u->dynamic) dynamic_scale(max_abs(x + b * image, image), &s, &inv);
    quantize_planes(planes, x + b * image, u, inv);
    for (int g = 0; g < (int)u->group; g++) {
      ConvTile t = {
        .quads = quads, .w = w + (size_t)g * blocks * k2 * 8, .wscale = wscale + g * blocks * 4, .bias = bias + g * blocks * 4,
        .out = out + ((size_t)b * u->cout + (size_t)g * cout_g) * P, .k2 = k2, .pixels = P, .cout_g = cout_g, .s = s, .act = u->act,
        .q4_groups = (int)u->q4_groups,
        .lo = wasm_f32x4_splat(lo), .hi = wasm_f32x4_splat(hi),
      };
      for (int p0 = 0; p0 < P; p0 += chunk) {
        const int count = min_i(chunk, P - p0), nq = (count + 3) / 4;
        im2row(quads, planes + g * group_planes, off, u, p0, count);
        t.p0 = p0;
        if (clamp) conv_tiles(&t, nq, 1, Q4);
        else conv_tiles(&t, nq, 0, Q4);
      }
    }
  }
}

KERNEL(qconv_i8)
void qconv_i8(const float* x, const int16_t* w, const float* wscale, const float* bias, float* out, int16_t* scratch, const QConvU* u) {
  qconv(x, w, wscale, bias, out, scratch, u, 0);
}

/*
 * Q4Conv with a static int8 activation scale (kernels/int4/q4conv.ts): the same gather and tiles,
 * the int4 weights unpacked at load to int16 (u - z, K padded to whole groups of 32), wscale the
 * f32 table [channel][group] and the per-group fold of conv_tile. Q4Conv's dynamic scale is per
 * patch row (Q4MatMul's rule), not per image, so it keeps kernels/int4/q4conv.c.
 */
KERNEL(qconv_q4)
void qconv_q4(const float* x, const int16_t* w, const float* scales, const float* bias, float* out, int16_t* scratch, const QConvU* u) {
  qconv(x, w, scales, bias, out, scratch, u, 1);
}
