/*
 * Transposed 2-D convolution (1-D runs as H = 1) with fused bias and activation, the C twin of
 * conv-transpose.wgsl, and the same gather formulation:
 *   out[n][co][oh][ow] = act(bias[co] + sum over ci in co's group, kh, kw with
 *     oh + ph - kh*dh = ih*sh and ow + pw - kw*dw = iw*sw of x[n][ci][ih][iw] * W[ci][co % coutG][kh][kw])
 *
 * Layout: NCHW in and out; W in its ONNX layout [cin][coutG][KH][KW]; bias dense [cout].
 * Scalar and unblocked: none of the target models runs a ConvTranspose, so this favours being
 * obviously the WGSL kernel's twin over speed. The tap loops skip whole rows/columns whose input
 * coordinate is off the stride grid before touching channels.
 */
#include "conv-params.h"

KERNEL(conv_transpose_f32)
void conv_transpose_f32(const float* x, const float* w, const float* bias, float* out, const ConvU* u) {
  const int h = (int)u->h, wi = (int)u->w, kh = (int)u->kh, kw = (int)u->kw;
  const int sh = u->sh, sw = u->sw, dh = u->dh, dw = u->dw, ph = u->ph, pw = u->pw;
  const int cin_g = (int)u->cin_g, cout_g = (int)u->cout_g, in_plane = h * wi;
  for (int n = 0; n < (int)u->batch; n++) {
    for (int co = 0; co < (int)u->cout; co++) {
      const int grp = co / cout_g, cm = co % cout_g;
      const float* xg = x + (n * (int)u->cin + grp * cin_g) * in_plane;
      const float* wg = w + (grp * cin_g * cout_g + cm) * kh * kw;
      float* o = out + (n * (int)u->cout + co) * (int)(u->ho * u->wo);
      for (int oh = 0; oh < (int)u->ho; oh++) {
        for (int ow = 0; ow < (int)u->wo; ow++) {
          float acc = bias[co];
          for (int i = 0; i < kh; i++) {
            const int th = oh + ph - i * dh;
            if (th < 0 || th % sh != 0 || th / sh >= h) continue;
            for (int j = 0; j < kw; j++) {
              const int tw = ow + pw - j * dw;
              if (tw < 0 || tw % sw != 0 || tw / sw >= wi) continue;
              const float* xp = xg + th / sh * wi + tw / sw;
              const float* wpt = wg + i * kw + j;
              for (int ci = 0; ci < cin_g; ci++) acc += xp[ci * in_plane] * wpt[ci * cout_g * kh * kw];
            }
          }
          o[oh * (int)u->wo + ow] = wasm_f32x4_extract_lane(act_vec(wasm_f32x4_splat(acc), &u->act), 0);
        }
      }
    }
  }
}
