/*
 * SparseQMatMul on the CPU: int8 W8A8 with 2:4 structured sparse weights,
 *   acc[m][n] = sum over kept (g, i) of qa[m][4g + i] * w[n][g][i]   (exact int32)
 *   out[m][n] = act(f32(acc) * (s_m * wscale[n]) + bias[n])
 * with A quantized by quantize.h (QMatMul's quantizer), so the accumulators match
 * the reference and the WebGPU kernel bit for bit.
 *
 * Why lanes are output channels. Gathering A by each channel's indices (a swizzle per channel
 * and 8 kept values) measured slower than dense int8: every swizzle is three instructions in V8
 * (a non-constant i8x16.swizzle is paddusb + pshufb + the mask's address) and serves one dot.
 * Instead a swizzle gathers one group's kept pair for each of 8 channels: its table is the 16
 * bytes of the quantized row from the group's first, its 16 indices the 8 channels' kept positions
 * i0, i1 (0..3). Lanes being channels, no horizontal sums are needed, and the row needs no
 * per-call tables: it is swizzled as quantized (an earlier version built, per group, a table of
 * its 6 possible pairs; indexing the row directly saves that pass).
 *
 * Why A is stored offset. The 16 gathered bytes must become int16 for i32x4.dot_i16x8_s. Sign
 * extension costs V8 three instructions (pmovsxbw, and punpckhbw + psraw for the high half); with
 * the row held as a + 128 (unsigned, a ^ 0x80) the int16 lanes are split out by one AND (low
 * bytes) and one logical shift (high bytes), both exact. The dot then sums (a + 128) * w, and each
 * channel's accumulator starts at -128 * (sum of its kept weights), so it ends at the exact sum of
 * a * w (int32 wraps, so the sum is exact whenever the result fits). Channels are interleaved
 * accordingly: of a swizzle's bytes, the low byte of each int16 lane serves channels j = 0..3 of
 * the 8, the high byte channels j + 4. At M = 1 this loop is about 14 V8 instructions per 8 channels
 * and group (32 dense MACs); dense int8 (qgemm-core.h) spends about 17 on as many MACs, and the
 * instruction count is what bounds both (measured, AMD Zen 3).
 *
 * Layout (kernels/sparse/cpu-layout.ts packs it at load from the bundle's values and indices):
 * groups are padded to a multiple of 4 (G4: K to the whole vectors offset_bytes converts), channels
 * to blocks of 16; a block is 16 int32 (its channels' -128 * sum of kept weights) then, per group,
 * two halves of 8 channels, each 48 bytes: 16 swizzle indices, then 8 int16 weights for channels
 * 0..3 and 8 for channels 4..7 of the half. Half-channel j < 4 takes index bytes 4j + 2e (e = 0, 1:
 * the first and second kept position) and int16 weights 2j + e of the first 8, channel j + 4 index
 * bytes 4j + 2e + 1 and weights 2j + e of the second 8; an index byte is the position i_e. Padding
 * channels and groups have index 0 and weights 0. wscale and bias are padded to whole blocks.
 * Scratch: one int16 row (the quantizer's output), then every row of A as offset bytes ([M][4 G4]),
 * then the M row scales and 16 bytes that the last groups' 16-byte loads run into.
 *
 * Blocking. A tile is MR rows of A x H halves of 8 channels, 2H accumulators per row: per group a
 * half's 48 layout bytes are loaded once for the MR rows, each of which swizzles and does two dots.
 * M = 1 (batch-1 inference) runs 1 x 2: 4 independent add chains. Otherwise 4 x 1 (3, 2, 1 at the
 * tail): the layout streams once per 4 rows. V8 spills 2 of its 8 accumulators there, and it still
 * measured faster at M = 64 than 2 rows x 2 halves (which spills too, and streams the layout twice
 * as often).
 */
#include "../matmul/gemm-core.h"
#include "../quant/quantize.h"

typedef struct {
  uint32_t m, n, k, groups;
  float act_scale, act_inv;
  uint32_t dynamic;
  Act act;
} SparseU;

/* One quantized row as bytes a + 128 (a ^ 0x80: int8 to offset unsigned), 16 at a time. */
static void offset_bytes(uint8_t* t, const int16_t* q, int kp) {
  const v128_t offset = wasm_i8x16_splat((int8_t)0x80);
  for (int k = 0; k < kp; k += 16) wasm_v128_store(t + k, wasm_v128_xor(wasm_i8x16_narrow_i16x8(wasm_v128_load(q + k), wasm_v128_load(q + k + 8)), offset));
}

/* MR rows x H halves of 8 channels from half number `half`: 2H accumulators per row. */
INLINE void sparse_tile(const SparseU* u, const uint8_t* layout, const uint8_t* rows, const float* row_s, const float* wscale,
                        const float* bias, float* out, const int MR, const int H, int m0, int half) {
  const int groups = (int)u->groups, h0 = half & 1;
  const uint8_t* block = layout + (size_t)(half >> 1) * (64 + groups * 96);
  v128_t acc[4][4];
  for (int i = 0; i < MR; i++)
    for (int c = 0; c < 2 * H; c++) acc[i][c] = wasm_v128_load(block + 32 * h0 + 16 * c);
  const v128_t low = wasm_i16x8_splat(0xff);
  const uint8_t* l = block + 64 + 48 * h0;
  const uint8_t* t = rows + (size_t)m0 * groups * 4;
  for (int g = 0; g < groups; g++, l += 96, t += 4) {
    for (int h = 0; h < H; h++) {
      const v128_t idx = wasm_v128_load(l + 48 * h), wl = wasm_v128_load(l + 48 * h + 16), wh = wasm_v128_load(l + 48 * h + 32);
      for (int i = 0; i < MR; i++) {
        const v128_t x = wasm_i8x16_swizzle(wasm_v128_load(t + (size_t)i * groups * 4), idx);
        acc[i][2 * h] = wasm_i32x4_add(acc[i][2 * h], wasm_i32x4_dot_i16x8(wasm_v128_and(x, low), wl));
        acc[i][2 * h + 1] = wasm_i32x4_add(acc[i][2 * h + 1], wasm_i32x4_dot_i16x8(wasm_u16x8_shr(x, 8), wh));
      }
    }
  }
  const int n0 = half * 8, nv = min_i(8 * H, (int)u->n - n0);
  const Act act = u->act;
  for (int i = 0; i < MR; i++) {
    const v128_t s = wasm_f32x4_splat(row_s[m0 + i]);
    float* o = out + (size_t)(m0 + i) * u->n + n0;
    for (int c = 0; c * 4 < nv; c++) {
      const v128_t scale = wasm_f32x4_mul(s, wasm_v128_load(wscale + n0 + 4 * c));
      const v128_t y = act_vec(wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_convert_i32x4(acc[i][c]), scale), wasm_v128_load(bias + n0 + 4 * c)), &act);
      store_lanes(o + 4 * c, y, nv - 4 * c);
    }
  }
}

KERNEL(sparse_qmatmul_i8)
void sparse_qmatmul_i8(const float* a, const uint8_t* layout, const float* wscale, const float* bias, float* out, int16_t* scratch,
                       const SparseU* u) {
  const int m = (int)u->m, k = (int)u->k, groups = (int)u->groups, kp = groups * 4;
  uint8_t* rows = (uint8_t*)(scratch + kp);
  float* row_s = (float*)(rows + (size_t)m * kp);
  for (int r = 0; r < m; r++) {
    float s = u->act_scale, inv = u->act_inv;
    if (u->dynamic) dynamic_scale(max_abs(a + (size_t)r * k, k), &s, &inv);
    row_s[r] = s;
    quantize_run(scratch, a + (size_t)r * k, k, inv);
    memset(scratch + k, 0, (size_t)(kp - k) * 2);
    offset_bytes(rows + (size_t)r * kp, scratch, kp);
  }
  const int n = (int)u->n;
  if (m == 1) {
    for (int half = 0; half * 8 < n; half += 2) sparse_tile(u, layout, rows, row_s, wscale, bias, out, 1, 2, 0, half);
    return;
  }
  for (int half = 0; half * 8 < n; half++) {
    int m0 = 0;
    for (; m0 + 4 <= m; m0 += 4) sparse_tile(u, layout, rows, row_s, wscale, bias, out, 4, 1, m0, half);
    switch (m - m0) {
      case 3: sparse_tile(u, layout, rows, row_s, wscale, bias, out, 3, 1, m0, half); break;
      case 2: sparse_tile(u, layout, rows, row_s, wscale, bias, out, 2, 1, m0, half); break;
      case 1: sparse_tile(u, layout, rows, row_s, wscale, bias, out, 1, 1, m0, half); break;
      default: break;
    }
  }
}
