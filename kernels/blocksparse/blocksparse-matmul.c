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
 * That is the M = 1 (GEMV) path: A's row is first copied into scratch, kp = 16 * ceil(K/16)
 * floats with zeros past K, so the last K-block reads in bounds and its zero-padded weights meet
 * zeros (never NaN * 0 from beyond the row).
 *
 * M > 1 swaps the roles so that a weight is reused across rows: A is packed into panels of 8 rows
 * ([ceil(M/8)][kp][8], zero past M and K, as gemm.c packs B) and lanes are rows. Per column j of a
 * block, 2 A vectors (8 rows) times a splat of each channel's weight go into 4 x 2 accumulators:
 * 6 loads per 8 multiply-adds, where the row-wise form reusing weights for 2 rows needed 12 for 8
 * (it ran at 0.40x fp32 GEMM at M = 64 and 0% sparsity). The 4 x 4 tiles are transposed to rows
 * of 4 channels at the store. Row groups are the outer loop, so each group's blocks stay in L1
 * while the panels (in L2) stream past them.
 */
#include "../matmul/gemm-core.h"

typedef struct {
  uint32_t m, n, k, groups, kp;
  Act act;
} BlockSparseU;

/* Row group g of one row of A (zero-padded to kp): lanes are partial sums along K. */
static void gemv_group(const BlockSparseU* u, const float* a, const float* values, const int32_t* cols, const int32_t* row_ptr,
                       const float* bias, float* out, int g) {
  v128_t acc[4];
  for (int c = 0; c < 4; c++) acc[c] = wasm_f32x4_splat(0.0f);
  for (int b = row_ptr[g]; b < row_ptr[g + 1]; b++) {
    const float* v = values + (size_t)b * 64;
    const float* ab = a + (size_t)cols[b] * 16;
    const v128_t a0 = wasm_v128_load(ab), a1 = wasm_v128_load(ab + 4), a2 = wasm_v128_load(ab + 8), a3 = wasm_v128_load(ab + 12);
    for (int c = 0; c < 4; c++, v += 16) {
      const v128_t s = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(v), a0), wasm_f32x4_mul(wasm_v128_load(v + 4), a1));
      const v128_t t = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(v + 8), a2), wasm_f32x4_mul(wasm_v128_load(v + 12), a3));
      acc[c] = wasm_f32x4_add(acc[c], wasm_f32x4_add(s, t));
    }
  }
  const int n0 = g * 4;
  const v128_t y = act_vec(wasm_f32x4_add(hsum4_f32(acc[0], acc[1], acc[2], acc[3]), wasm_v128_load(bias + n0)), &u->act);
  store_lanes(out + n0, y, (int)u->n - n0);
}

/* Row group g of the 8 rows of one A panel: lanes are rows. */
static void panel_group(const BlockSparseU* u, const float* panel, const float* values, const int32_t* cols, const int32_t* row_ptr,
                        const float* bias, float* out, int m0, int g) {
  v128_t acc[4][2];
  for (int c = 0; c < 4; c++) acc[c][0] = acc[c][1] = wasm_f32x4_splat(0.0f);
  for (int b = row_ptr[g]; b < row_ptr[g + 1]; b++) {
    const float* v = values + (size_t)b * 64;
    const float* a = panel + (size_t)cols[b] * 16 * 8;
    for (int j = 0; j < 16; j++, a += 8) {
      const v128_t x0 = wasm_v128_load(a), x1 = wasm_v128_load(a + 4);
      for (int c = 0; c < 4; c++) {
        const v128_t w = wasm_v128_load32_splat(v + c * 16 + j);
        acc[c][0] = wasm_f32x4_add(acc[c][0], wasm_f32x4_mul(w, x0));
        acc[c][1] = wasm_f32x4_add(acc[c][1], wasm_f32x4_mul(w, x1));
      }
    }
  }
  const int n0 = g * 4, n = (int)u->n, m = (int)u->m;
  const v128_t bv = wasm_v128_load(bias + n0);
  for (int h = 0; h < 2; h++) {
    /* 4 x 4 transpose: acc[c][h] lane i (row 4h + i) -> rows[i] lane c. */
    const v128_t t0 = wasm_i32x4_shuffle(acc[0][h], acc[1][h], 0, 4, 1, 5), t1 = wasm_i32x4_shuffle(acc[0][h], acc[1][h], 2, 6, 3, 7);
    const v128_t t2 = wasm_i32x4_shuffle(acc[2][h], acc[3][h], 0, 4, 1, 5), t3 = wasm_i32x4_shuffle(acc[2][h], acc[3][h], 2, 6, 3, 7);
    const v128_t rows[4] = {
      wasm_i32x4_shuffle(t0, t2, 0, 1, 4, 5), wasm_i32x4_shuffle(t0, t2, 2, 3, 6, 7),
      wasm_i32x4_shuffle(t1, t3, 0, 1, 4, 5), wasm_i32x4_shuffle(t1, t3, 2, 3, 6, 7),
    };
    for (int i = 0; i < 4 && m0 + 4 * h + i < m; i++) {
      store_lanes(out + (size_t)(m0 + 4 * h + i) * n + n0, act_vec(wasm_f32x4_add(rows[i], bv), &u->act), n - n0);
    }
  }
}

KERNEL(blocksparse_matmul_f32)
void blocksparse_matmul_f32(const float* a, const float* values, const int32_t* cols, const int32_t* row_ptr, const float* bias, float* out,
                            float* scratch, const BlockSparseU* u) {
  const int m = (int)u->m, k = (int)u->k, kp = (int)u->kp, groups = (int)u->groups;
  if (m == 1) {
    memcpy(scratch, a, (size_t)k * 4);
    memset(scratch + k, 0, (size_t)(kp - k) * 4);
    for (int g = 0; g < groups; g++) gemv_group(u, scratch, values, cols, row_ptr, bias, out, g);
    return;
  }
  const int panels = (m + 7) / 8;
  memset(scratch, 0, (size_t)panels * kp * 8 * 4);
  for (int r = 0; r < m; r++) {
    float* p = scratch + (size_t)(r / 8) * kp * 8 + r % 8;
    for (int j = 0; j < k; j++) p[j * 8] = a[(size_t)r * k + j];
  }
  for (int g = 0; g < groups; g++)
    for (int p = 0; p < panels; p++) panel_group(u, scratch + (size_t)p * kp * 8, values, cols, row_ptr, bias, out, 8 * p, g);
}
