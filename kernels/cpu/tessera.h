/*
 * Shared by every CPU kernel. A kernel is `KERNEL(name) void name(ptr..., const Uniforms* u)`:
 * every argument is a byte offset into linear memory (see CpuCall in kernels/op.ts), tensors are
 * 32-bit words laid out exactly as on the GPU, 16-byte aligned, and the uniform struct is the one
 * the WGSL twin reads, so both kernels are planned by the same TypeScript.
 */
#ifndef TESSERA_H
#define TESSERA_H

#include <math.h>
#include <stdint.h>
#include <string.h>
#include <wasm_simd128.h>

#define KERNEL(name) __attribute__((export_name(#name)))

static inline int min_i(int a, int b) { return a < b ? a : b; }
static inline int max_i(int a, int b) { return a > b ? a : b; }

#endif
