/*
 * Grouped 2-D convolution (1-D runs as H = 1) with fused bias and activation, the C twin of
 * conv2d.wgsl for every conv that is not depthwise:
 *   out[n][co][oh][ow] = act(bias[co] + sum over ci in co's group, kh, kw of
 *                            x[n][ci][oh*sh - ph + kh*dh][ow*sw - pw + kw*dw] * W[co][ci][kh][kw])
 *
 * Each (image, group) is one GEMM: out[co][pixel] = Wg[co][k] x X[k][pixel], k = (ci, kh, kw),
 * M = cout/group, N = Ho*Wo, K = cin/group * KH * KW, so the output comes out in NCHW directly
 * and the pixel axis is the vector axis.
 * Layout: x and out NCHW; W packed at load to [group][M/4][K][4] (kernels/conv/cpu.ts), the A
 * layout gemm_core broadcasts from; bias dense [cout] (zeros when absent).
 * conv2d_residual_f32 also adds `res` (NCHW, out's shape) before the activation, a residual Add
 * the planner fused into the conv (core/runtime/fuse-residual.ts): gemm_core's R, read in the
 * epilogue, so the sum never makes a separate pass over memory.
 *
 * Pointwise (1x1, stride 1, no pads): X is the input itself, [cin][H*W], so no im2col, only the
 * panel packing any GEMM does of B (gemm-core.h says why packing beats reading it in place).
 * Otherwise im2col (1x3 / 3x1 convs go to winograd.c instead). Either way `nc` output pixels at a
 * time, written straight into the 8-column panel layout the core reads, so the block (K x nc
 * floats, 64 KiB, see cpu.ts) is still cached when multiplied, and scratch stays small. A direct
 * kernel would skip the copy, but the copy costs K*N moves against M*K*N multiply-adds (M ≥ 8 in
 * the target models) and lets every conv shape share the one tuned micro-kernel. With pads, the
 * group's input is first copied into zero-padded planes (1/(KH*KW) of the im2col traffic) so that
 * im2col has no bounds checks and a panel inside one output row is copied with vector loads
 * (strides 1 and 2), borders included.
 */
#include "conv-params.h"

/*
 * Columns [n0, n0 + cols) of one group's im2col matrix, as panels [cols/8][K][8], from input planes
 * already padded to hp x wp (every tap in bounds). A panel's pixels fall into runs along output
 * rows; a panel that is one run is copied with vector loads for strides 1 and 2.
 */
static void im2col_panels(float* dst, const float* xp, const ConvU* u, int n0, int cols) {
  const int hp = (int)u->hp, wp = (int)u->wp, wo = (int)u->wo, kh = (int)u->kh, kw = (int)u->kw;
  const int sh = u->sh, sw = u->sw, dh = u->dh, dw = u->dw;
  const int k = (int)u->cin_g * kh * kw;
  for (int p = 0; p * 8 < cols; p++) {
    const int j0 = n0 + p * 8, nv = min_i(8, cols - p * 8);
    int run_q[8], run_len[8], run_off[8], runs = 0;
    for (int q = 0; q < nv; runs++) {
      const int oh = (j0 + q) / wo, ow = (j0 + q) % wo, len = min_i(nv - q, wo - ow);
      run_q[runs] = q, run_len[runs] = len, run_off[runs] = oh * sh * wp + ow * sw;
      q += len;
    }
    const int whole = runs == 1 && nv == 8;
    float* d = dst + p * 8 * k;
    for (int ci = 0; ci < (int)u->cin_g; ci++) {
      for (int i = 0; i < kh; i++) {
        const float* row = xp + (ci * hp + i * dh) * wp;
        for (int j = 0; j < kw; j++, d += 8) {
          const float* tap = row + j * dw;
          if (whole) {
            const float* s = tap + run_off[0];
            if (sw == 1) {
              wasm_v128_store(d, wasm_v128_load(s));
              wasm_v128_store(d + 4, wasm_v128_load(s + 4));
            } else if (sw == 2) {
              /* s[0..14] even lanes; the last load starts at 11 so nothing past s[14] is read. */
              wasm_v128_store(d, wasm_i32x4_shuffle(wasm_v128_load(s), wasm_v128_load(s + 4), 0, 2, 4, 6));
              wasm_v128_store(d + 4, wasm_i32x4_shuffle(wasm_v128_load(s + 8), wasm_v128_load(s + 11), 0, 2, 5, 7));
            } else {
              for (int q = 0; q < 8; q++) d[q] = s[q * sw];
            }
            continue;
          }
          for (int r = 0; r < runs; r++) {
            const float* s = tap + run_off[r];
            for (int t = 0; t < run_len[r]; t++) d[run_q[r] + t] = s[t * sw];
          }
          for (int q = nv; q < 8; q++) d[q] = 0.0f;
        }
      }
    }
  }
}

/* res: NULL, or the residual added before the activation. */
static void conv2d(const float* x, const float* wp, const float* bias, const float* res, float* out, float* scratch, const ConvU* u) {
  const int m = (int)u->cout_g, k = (int)(u->cin_g * u->kh * u->kw), pixels = (int)(u->ho * u->wo);
  const int in_plane = (int)(u->h * u->w);
  const int m4 = (m + 3) / 4 * 4;
  /* scratch: [padded input planes, when there are pads][im2col block]. */
  const int padded = u->hp != u->h || u->wp != u->w;
  float* cols_buf = scratch + (padded ? (u->cin_g * u->hp * u->wp + 3) / 4 * 4 : 0);
  for (uint32_t n = 0; n < u->batch; n++) {
    for (uint32_t grp = 0; grp < u->group; grp++) {
      const float* xg = x + (n * u->cin + grp * u->cin_g) * in_plane;
      GemmArgs g = {
        .m = m, .n = pixels, .k = k, .a = wp + grp * m4 * k, .sam = 1, .sak = 4, .a_tile = 4 * k,
        .out = out + (n * u->cout + grp * u->cout_g) * pixels, .ldo = pixels,
        .c = bias + grp * u->cout_g, .scm = 1, .scn = 0, .alpha = 1.0f, .beta = 1.0f, .act = u->act,
      };
      if (padded) pad_planes(scratch, xg, u);
      const float* src = padded ? scratch : xg;
      float* o = g.out;
      const float* r = res ? res + (o - out) : NULL;
      for (int n0 = 0; n0 < pixels; n0 += (int)u->nc) {
        const int cols = min_i((int)u->nc, pixels - n0);
        if (u->variant) pack_b_panels(cols_buf, xg, in_plane, 1, k, n0, cols);
        else im2col_panels(cols_buf, src, u, n0, cols);
        g.b = cols_buf, g.ldb = 8, g.b_panel = 8 * k, g.out = o + n0, g.n = cols, g.r = r ? r + n0 : NULL;
        gemm_core(&g);
      }
    }
  }
}

CONV_ENTRY_POINTS(conv2d)
