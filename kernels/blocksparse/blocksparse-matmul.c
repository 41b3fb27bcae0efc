/*
 * BlockSparseMatMul on the CPU: y[m][n] = act(sum_k A[m][k] * W[n][k] + bias[n]) with float32 W
 * stored as BSR blocks of 4 output channels x 16 along K (kernels/blocksparse/format.ts):
 * values [nnz][4][16], blockCols [nnz] (the K-block), rowPtr [groups + 1]. Zero blocks are not
 * stored, so their loads and multiply-adds are skipped.
 *
 * Why this shape of work. Per row group the 4 channels each keep one f32x4 accumulator whose
 * lanes are 4 partial sums along K; a stored block is 4 A vectors (its 16 columns, one cache line)
 * times 4 weight vectors per channel: 16 mul + 16 add, every lane useful, no gather, and the 4
 * channel chains are independent so the adds do not serialise. The 4 accumulators are reduced to
 * one vector of 4 channels once per row group (two rounds of shuffles and adds), then bias and the
 * fused activation are applied in SIMD. The alternative, lanes = channels with A broadcast per k,
 * needs 16 splats per block and puts all 16 adds on one accumulator chain.
 *
 * A is first copied into scratch rows of kp = 16 * ceil(K/16) floats with zeros past K, so the
 * last K-block reads in bounds and its zero-padded weights meet zeros (never NaN * 0 from the
 * next row). The copy is M*K floats against the product's M*N*K/density multiply-adds.
 *
 * Blocking. MR rows of A (2, or 1 at the tail and for M = 1) share each block's weight loads:
 * 4 weight vectors of one channel at a time, times MR rows, into MR x 4 accumulators (8 + 4
 * weights + A fits V8's 15 xmm registers; MR = 4 would need 16 accumulators alone).
 */
#include "../matmul/gemm-core.h"

typedef struct {
  uint32_t m, n, k, groups, kp;
  Act act;
} BlockSparseU;

/* [sum(a), sum(b), sum(c), sum(d)] of four f32x4. */
INLINE v128_t reduce4(v128_t a, v128_t b, v128_t c, v128_t d) {
  const v128_t ab = wasm_f32x4_add(wasm_i32x4_shuffle(a, b, 0, 4, 1, 5), wasm_i32x4_shuffle(a, b, 2, 6, 3, 7));
  const v128_t cd = wasm_f32x4_add(wasm_i32x4_shuffle(c, d, 0, 4, 1, 5), wasm_i32x4_shuffle(c, d, 2, 6, 3, 7));
  return wasm_f32x4_add(wasm_i32x4_shuffle(ab, cd, 0, 1, 4, 5), wasm_i32x4_shuffle(ab, cd, 2, 3, 6, 7));
}

INLINE void group_tile(const BlockSparseU* u, const float* ap, const float* values, const int32_t* cols, const int32_t* row_ptr,
                       const float* bias, float* out, const int MR, int m0, int g) {
  v128_t acc[2][4];
  for (int i = 0; i < MR; i++)
    for (int c = 0; c < 4; c++) acc[i][c] = wasm_f32x4_splat(0.0f);
  const size_t kp = u->kp;
  for (int b = row_ptr[g]; b < row_ptr[g + 1]; b++) {
    const float* v = values + (size_t)b * 64;
    const float* a = ap + (size_t)m0 * kp + (size_t)cols[b] * 16;
    for (int c = 0; c < 4; c++, v += 16) {
      const v128_t w0 = wasm_v128_load(v), w1 = wasm_v128_load(v + 4), w2 = wasm_v128_load(v + 8), w3 = wasm_v128_load(v + 12);
      for (int i = 0; i < MR; i++) {
        const float* ar = a + i * kp;
        const v128_t s = wasm_f32x4_add(wasm_f32x4_mul(w0, wasm_v128_load(ar)), wasm_f32x4_mul(w1, wasm_v128_load(ar + 4)));
        const v128_t t = wasm_f32x4_add(wasm_f32x4_mul(w2, wasm_v128_load(ar + 8)), wasm_f32x4_mul(w3, wasm_v128_load(ar + 12)));
        acc[i][c] = wasm_f32x4_add(acc[i][c], wasm_f32x4_add(s, t));
      }
    }
  }
  const int n0 = g * 4, n = (int)u->n;
  const v128_t bv = wasm_v128_load(bias + n0);
  for (int i = 0; i < MR; i++) {
    const v128_t y = act_vec(wasm_f32x4_add(reduce4(acc[i][0], acc[i][1], acc[i][2], acc[i][3]), bv), &u->act);
    store_lanes(out + (size_t)(m0 + i) * n + n0, y, n - n0);
  }
}

KERNEL(blocksparse_matmul_f32)
void blocksparse_matmul_f32(const float* a, const float* values, const int32_t* cols, const int32_t* row_ptr, const float* bias, float* out,
                            float* scratch, const BlockSparseU* u) {
  const int m = (int)u->m, k = (int)u->k, kp = (int)u->kp;
  for (int r = 0; r < m; r++) {
    memcpy(scratch + (size_t)r * kp, a + (size_t)r * k, (size_t)k * 4);
    memset(scratch + (size_t)r * kp + k, 0, (size_t)(kp - k) * 4);
  }
  for (int g = 0; g < (int)u->groups; g++) {
    int m0 = 0;
    for (; m0 + 2 <= m; m0 += 2) group_tile(u, scratch, values, cols, row_ptr, bias, out, 2, m0, g);
    if (m0 < m) group_tile(u, scratch, values, cols, row_ptr, bias, out, 1, m0, g);
  }
}
