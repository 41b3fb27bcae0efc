/*
 * QMatMul on the CPU (the C twin of quantize-rows.wgsl + qgemm.wgsl): quantizes each row of A
 * (float [M, K], K contiguous) with the static or its own dynamic scale into int16 rows in
 * scratch, then runs qgemm_core (qgemm-core.h: layouts, blocking and why) into out [M, N].
 * Scratch: [M][KP] int16 rows, then M row scales.
 */
#include "qgemm-core.h"

typedef struct {
  uint32_t m, n, k, kp;
  float act_scale, act_inv;
  uint32_t dynamic;
  Act act;
} QMatMulU;

KERNEL(qmatmul_i8)
void qmatmul_i8(const float* a, const int8_t* w, const float* wscale, const float* bias, float* out, int16_t* scratch, const QMatMulU* u) {
  const int m = (int)u->m, k = (int)u->k, kp = (int)u->kp;
  float* row_s = (float*)(scratch + (size_t)m * kp);
  for (int r = 0; r < m; r++) {
    float s = u->act_scale, inv = u->act_inv;
    if (u->dynamic) dynamic_scale(max_abs(a + r * k, k), &s, &inv);
    row_s[r] = s;
    int16_t* q = scratch + r * kp;
    quantize_run(q, a + r * k, k, inv);
    memset(q + k, 0, (size_t)(kp - k) * 2);
  }
  const QGemmArgs g = {
    .m = m, .n = (int)u->n, .kp = kp, .a = scratch, .w = w, .wscale = wscale, .bias = bias,
    .row_s = row_s, .out = out, .act = u->act,
  };
  qgemm_core(&g);
}
