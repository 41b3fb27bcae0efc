/*
 * Convolution with a 1x3 or 3x1 kernel (or a 1-D kernel of 3), stride 1, dilation 1, one group,
 * by 1-D Winograd F(4,3), with fused bias and activation. The CPU-only alternative to conv2d.c for
 * the openWakeWord embedding model, which is almost all such convs: F(4,3) makes 4 outputs along
 * the tap axis from 6 products instead of 12, so half the multiply-adds of the GEMM conv2d.c runs,
 * and that GEMM is already bound by the SIMD ALU (no FMA in SIMD128), so only fewer products help.
 *   out[n][co][l][r] = act(bias[co] + sum over ci, j < 3 of x[n][ci][l - p + j][r] * W[co][ci][j])
 * along the tap axis l (W for 1x3 and 1-D, H for 3x1) and r the other spatial axis.
 *
 * Lavin & Gray's F(4,3): with d the 6 inputs of a tile of 4 outputs and g the 3 taps,
 * y = A^T [(G g) . (B^T d)]. G g is applied to the weights at load (kernels/conv/cpu.ts), packed
 * for each of the 6 points as the A operand of gemm_core ([6][cout/4][cin][4]). Per block of `nc`
 * tiles: the input transform writes B^T d for each point as 8-tile panels ([6][nc/8][cin][8]), six
 * GEMMs (cout x cin x nc, no epilogue) multiply them, and the output transform applies A^T, bias
 * and activation, scattering each tile's 4 outputs. Transforms are SIMD across 8 (input) and 4
 * (output) tiles; their gathers/scatters are scalar, a few % of the GEMM work for cin, cout ≥ 8.
 *
 * Layout: x and out NCHW; input planes first copied zero-padded (conv-params.h pad_planes) to
 * hp x wp, with the tap axis padded to 4*tiles + 2 so the last tile reads in bounds. Tiles are
 * numbered t * R + r (t along the tap axis, r along the other axis of R positions).
 * Scratch: [padded planes][transformed input 6*cin*nc][GEMM results 6*cout*nc].
 */
#include "conv-params.h"

/* Tile n's first input (padded plane offset) and first output (offset, and step along taps). */
typedef struct {
  int along_h, tiles_l, r_len, l_out, wp, wo;
} Geo;

INLINE int tile_in(const Geo* g, int n) {
  const int t = n / g->r_len, r = n % g->r_len;
  return g->along_h ? 4 * t * g->wp + r : r * g->wp + 4 * t;
}

static void input_transform(float* v, const float* xp, const ConvU* u, const Geo* geo, int n0, int cols) {
  const int cin = (int)u->cin_g, panels = (cols + 7) / 8, plane = (int)(u->hp * u->wp);
  const int sl = geo->along_h ? geo->wp : 1;
  const v128_t two = wasm_f32x4_splat(2.0f), four = wasm_f32x4_splat(4.0f), five = wasm_f32x4_splat(5.0f);
  for (int p = 0; p < panels; p++) {
    int base[8];
    for (int q = 0; q < 8; q++) base[q] = 8 * p + q < cols ? tile_in(geo, n0 + 8 * p + q) : -1;
    for (int ci = 0; ci < cin; ci++) {
      const float* pl = xp + ci * plane;
      float d[6][8];
      for (int q = 0; q < 8; q++)
        for (int j = 0; j < 6; j++) d[j][q] = base[q] >= 0 ? pl[base[q] + j * sl] : 0.0f;
      for (int h = 0; h < 2; h++) {
        const v128_t d0 = wasm_v128_load(&d[0][4 * h]), d1 = wasm_v128_load(&d[1][4 * h]), d2 = wasm_v128_load(&d[2][4 * h]);
        const v128_t d3 = wasm_v128_load(&d[3][4 * h]), d4 = wasm_v128_load(&d[4][4 * h]), d5 = wasm_v128_load(&d[5][4 * h]);
        /* B^T rows: [4 0 -5 0 1 0] [0 -4 -4 1 1 0] [0 4 -4 -1 1 0] [0 -2 -1 2 1 0] [0 2 -1 -2 1 0] [0 4 0 -5 0 1] */
        const v128_t a = wasm_f32x4_sub(d4, wasm_f32x4_mul(four, d2)), b = wasm_f32x4_sub(d3, wasm_f32x4_mul(four, d1));
        const v128_t c = wasm_f32x4_sub(d4, d2), e = wasm_f32x4_mul(two, wasm_f32x4_sub(d3, d1));
        const v128_t out[6] = {
          wasm_f32x4_add(wasm_f32x4_sub(wasm_f32x4_mul(four, d0), wasm_f32x4_mul(five, d2)), d4),
          wasm_f32x4_add(a, b),
          wasm_f32x4_sub(a, b),
          wasm_f32x4_add(c, e),
          wasm_f32x4_sub(c, e),
          wasm_f32x4_add(wasm_f32x4_sub(wasm_f32x4_mul(four, d1), wasm_f32x4_mul(five, d3)), d5),
        };
        for (int x = 0; x < 6; x++) wasm_v128_store(v + ((x * panels + p) * cin + ci) * 8 + 4 * h, out[x]);
      }
    }
  }
}

static void output_transform(float* out, const float* m, const float* bias, const ConvU* u, const Geo* geo, int n0, int cols, int ld) {
  const int cout = (int)u->cout_g, pixels = (int)(u->ho * u->wo);
  const int so = geo->along_h ? geo->wo : 1;
  const v128_t two = wasm_f32x4_splat(2.0f), four = wasm_f32x4_splat(4.0f), eight = wasm_f32x4_splat(8.0f);
  for (int co = 0; co < cout; co++) {
    const v128_t b = wasm_v128_load32_splat(bias + co);
    float* o = out + co * pixels;
    for (int n = 0; n < cols; n += 4) {
      v128_t mv[6];
      for (int x = 0; x < 6; x++) mv[x] = wasm_v128_load(m + (x * cout + co) * ld + n);
      /* A^T rows: [1 1 1 1 1 0] [0 1 -1 2 -2 0] [0 1 1 4 4 0] [0 1 -1 8 -8 1] */
      const v128_t s12 = wasm_f32x4_add(mv[1], mv[2]), d12 = wasm_f32x4_sub(mv[1], mv[2]);
      const v128_t s34 = wasm_f32x4_add(mv[3], mv[4]), d34 = wasm_f32x4_sub(mv[3], mv[4]);
      float y[4][4];
      wasm_v128_store(y[0], act_vec(wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_add(mv[0], s12), s34), b), &u->act));
      wasm_v128_store(y[1], act_vec(wasm_f32x4_add(wasm_f32x4_add(d12, wasm_f32x4_mul(two, d34)), b), &u->act));
      wasm_v128_store(y[2], act_vec(wasm_f32x4_add(wasm_f32x4_add(s12, wasm_f32x4_mul(four, s34)), b), &u->act));
      wasm_v128_store(y[3], act_vec(wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_add(d12, wasm_f32x4_mul(eight, d34)), mv[5]), b), &u->act));
      for (int q = 0; q < 4 && n + q < cols; q++) {
        const int tile = n0 + n + q, t = tile / geo->r_len, r = tile % geo->r_len;
        const int at = geo->along_h ? 4 * t * geo->wo + r : r * geo->wo + 4 * t;
        for (int i = 0; i < 4 && 4 * t + i < geo->l_out; i++) o[at + i * so] = y[i][q];
      }
    }
  }
}

KERNEL(conv_winograd_f32)
void conv_winograd_f32(const float* x, const float* wt, const float* bias, float* out, float* scratch, const ConvU* u) {
  const int cin = (int)u->cin_g, cout = (int)u->cout_g, nc = (int)u->nc, m4 = (cout + 3) / 4 * 4;
  const int along_h = (int)u->variant, ho = (int)u->ho, wo = (int)u->wo;
  const Geo geo = {
    .along_h = along_h, .l_out = along_h ? ho : wo, .r_len = along_h ? wo : ho, .wp = (int)u->wp, .wo = wo,
    .tiles_l = ((along_h ? ho : wo) + 3) / 4,
  };
  const int tiles = geo.tiles_l * geo.r_len;
  float* xp = scratch;
  float* v = xp + (cin * u->hp * u->wp + 3) / 4 * 4;
  float* m = v + 6 * cin * nc;
  for (uint32_t n = 0; n < u->batch; n++) {
    pad_planes(xp, x + n * u->cin * u->h * u->w, u);
    float* o = out + n * u->cout * ho * wo;
    for (int n0 = 0; n0 < tiles; n0 += nc) {
      const int cols = min_i(nc, tiles - n0), ld = (cols + 7) / 8 * 8;
      input_transform(v, xp, u, &geo, n0, cols);
      for (int x = 0; x < 6; x++) {
        GemmArgs g = {
          .m = cout, .n = cols, .k = cin, .a = wt + x * m4 * cin, .sam = 1, .sak = 4, .a_tile = 4 * cin,
          .b = v + x * (ld / 8) * cin * 8, .ldb = 8, .b_panel = 8 * cin, .out = m + x * cout * ld, .ldo = ld,
          .c = NULL, .alpha = 1.0f, .beta = 0.0f, .act = {ACT_NONE, 0.0f, 0.0f},
        };
        gemm_core(&g);
      }
      output_transform(o, m, bias, u, &geo, n0, cols, ld);
    }
  }
}
