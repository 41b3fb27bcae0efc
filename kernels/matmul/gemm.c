/*
 * MatMul and Gemm on the CPU: a batched, strided GEMM with fused epilogue (the C twin of
 * gemm.wgsl), out[b][m][n] = act(alpha * sum_k A(b,m,k) * B(b,k,n) + beta * C(b,m,n)).
 *
 * Layout: A and C through element strides; out dense [batch][M][N]; batch dims (broadcast ones
 * have stride 0) decomposed here, outermost first. B comes in one of two forms (`b_mode`):
 *   0  panels packed at load ([batch][N/8][K][8], see kernels/matmul/cpu.ts): constant weights;
 *   1  any strides (B known only at run time): packed `nc` columns at a time into scratch, then
 *      multiplied, so the packed block is still in cache when read.
 * All compute is gemm_core (gemm-core.h): its header has the blocking and why.
 */
#include "gemm-core.h"

typedef struct {
  uint32_t dim;
  int32_t a, b, out, c;
} BatchDim;

typedef struct {
  uint32_t m, n, k, b_mode;
  int32_t sam, sak, sbk, sbn;
  uint32_t has_c;
  int32_t scm, scn;
  float alpha, beta;
  uint32_t nc;
  Act act;
  uint32_t batch_rank;
  BatchDim batch[];
} MatMulU;

KERNEL(matmul_f32)
void matmul_f32(const float* a, const float* b, const float* c, float* out, float* scratch, const MatMulU* u) {
  const int m = (int)u->m, n = (int)u->n, k = (int)u->k;
  uint32_t batches = 1;
  for (uint32_t d = 0; d < u->batch_rank; d++) batches *= u->batch[d].dim;
  GemmArgs g = {
    .m = m, .n = n, .k = k, .sam = u->sam, .sak = u->sak, .a_tile = 4 * u->sam,
    .ldo = n, .scm = u->scm, .scn = u->scn, .alpha = u->alpha, .beta = u->beta, .act = u->act,
  };
  for (uint32_t t = 0; t < batches; t++) {
    int oa = 0, ob = 0, oo = 0, oc = 0;
    for (uint32_t d = u->batch_rank, rem = t; d-- > 0;) {
      const uint32_t i = rem % u->batch[d].dim;
      rem /= u->batch[d].dim;
      oa += (int)i * u->batch[d].a;
      ob += (int)i * u->batch[d].b;
      oo += (int)i * u->batch[d].out;
      oc += (int)i * u->batch[d].c;
    }
    g.a = a + oa;
    const float* bb = b + ob;
    float* ob_out = out + oo;
    const float* cb = u->has_c ? c + oc : NULL;
    if (u->b_mode == 0) {
      g.b = bb, g.ldb = 8, g.b_panel = 8 * k, g.out = ob_out, g.n = n, g.c = cb;
      gemm_core(&g);
      continue;
    }
    for (int n0 = 0; n0 < n; n0 += (int)u->nc) {
      const int cols = min_i((int)u->nc, n - n0);
      pack_b_panels(scratch, bb, u->sbk, u->sbn, k, n0, cols);
      g.b = scratch, g.ldb = 8, g.b_panel = 8 * k, g.out = ob_out + n0, g.n = cols;
      g.c = cb ? cb + n0 * u->scn : NULL;
      gemm_core(&g);
    }
  }
}
