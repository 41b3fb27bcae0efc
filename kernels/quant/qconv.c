/*
 * QConv on the CPU (the C twin of im2row.wgsl + qgemm.wgsl), NCHW, any group:
 *   per image b: its scale (static, or dynamic over the whole image), the image quantized once
 *   into zero-padded int16 planes [cIn][hp][wp] (padding quantizes to 0), then per group and per
 *   chunk of `chunk` output pixels an im2row gather of int16 rows [pixel][KP] (taps in ONNX weight
 *   order c, kh, kw; zero tail), multiplied by qgemm_core (qgemm-core.h) into out[b][g*coutG + n]
 *   at pixel stride 1 and channel stride P.
 * Quantizing the image before gathering (not while) costs each input one quantization instead of
 * kh*kw, and the padded planes let the gather run without bounds tests. The chunk keeps the rows
 * (chunk x KP int16) in L2 while each 4-channel weight block sweeps them.
 * Scratch: the padded planes, then the chunk's rows.
 */
#include "qgemm-core.h"

typedef struct {
  uint32_t batch, cin, h, w, cout, ho, wo, kh, kw;
  int32_t sh, sw, ph, pw, dh, dw;
  uint32_t group, cin_g, cout_g, k, kp, hp, wp, chunk;
  float act_scale, act_inv;
  uint32_t dynamic;
  Act act;
} QConvU;

static void quantize_planes(int16_t* dst, const float* x, const QConvU* u, float inv) {
  const int h = (int)u->h, w = (int)u->w, hp = (int)u->hp, wp = (int)u->wp;
  memset(dst, 0, (size_t)u->cin * hp * wp * 2);
  for (int c = 0; c < (int)u->cin; c++)
    for (int r = 0; r < h; r++) quantize_run(dst + (c * hp + r + u->ph) * wp + u->pw, x + (c * h + r) * w, w, inv);
}

static void im2row(int16_t* rows, const int16_t* planes, const QConvU* u, int g, int p0, int count) {
  const int hp = (int)u->hp, wp = (int)u->wp, kh = (int)u->kh, kw = (int)u->kw, kp = (int)u->kp, k = (int)u->k;
  for (int i = 0; i < count; i++) {
    const int p = p0 + i, oy = p / (int)u->wo, ox = p % (int)u->wo;
    int16_t* row = rows + i * kp;
    int t = 0;
    for (int ci = 0; ci < (int)u->cin_g; ci++) {
      const int16_t* plane = planes + (g * (int)u->cin_g + ci) * hp * wp + oy * u->sh * wp + ox * u->sw;
      for (int ky = 0; ky < kh; ky++)
        for (int kx = 0; kx < kw; kx++) row[t++] = plane[ky * u->dh * wp + kx * u->dw];
    }
    memset(row + k, 0, (size_t)(kp - k) * 2);
  }
}

KERNEL(qconv_i8)
void qconv_i8(const float* x, const int8_t* w, const float* wscale, const float* bias, float* out, int16_t* scratch, const QConvU* u) {
  const int P = (int)(u->ho * u->wo), image = (int)(u->cin * u->h * u->w), chunk = (int)u->chunk;
  const int cout_g = (int)u->cout_g, blocks = (cout_g + 3) / 4, kp = (int)u->kp;
  int16_t* planes = scratch;
  int16_t* rows = planes + (((size_t)u->cin * u->hp * u->wp + 7) & ~(size_t)7);
  for (int b = 0; b < (int)u->batch; b++) {
    float s = u->act_scale, inv = u->act_inv;
    if (u->dynamic) dynamic_scale(max_abs(x + b * image, image), &s, &inv);
    quantize_planes(planes, x + b * image, u, inv);
    for (int g = 0; g < (int)u->group; g++) {
      for (int p0 = 0; p0 < P; p0 += chunk) {
        const int count = min_i(chunk, P - p0);
        im2row(rows, planes, u, g, p0, count);
        const QGemmArgs args = {
          .m = count, .n = cout_g, .kp = kp, .a = rows, .w = w + (size_t)g * blocks * 4 * kp,
          .wscale = wscale + g * blocks * 4, .bias = bias + g * blocks * 4, .row_s = NULL,
          .out = out + ((size_t)b * u->cout + (size_t)g * cout_g) * P + p0, .sm = 1, .sn = P, .act = u->act, .s = s,
        };
        qgemm_core(&args);
      }
    }
  }
}
