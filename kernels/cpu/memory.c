/*
 * Whole-tensor copies and fills, used by every family for views that need a copy (Identity on an
 * output, Dropout's passthrough) and for zeroing accumulators. memcpy/memset lower to bulk-memory
 * instructions.
 */
#include "tessera.h"

KERNEL(copy_words) void copy_words(const uint32_t* src, uint32_t* dst, const uint32_t* u) {
  memcpy(dst, src, (size_t)u[0] * 4);
}

KERNEL(fill_words) void fill_words(uint32_t* dst, const uint32_t* u) {
  uint32_t n = u[0], v = u[1];
  v128_t vv = wasm_i32x4_splat((int32_t)v);
  uint32_t i = 0;
  for (; i + 4 <= n; i += 4) wasm_v128_store(dst + i, vv);
  for (; i < n; i++) dst[i] = v;
}
