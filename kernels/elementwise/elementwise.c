/*
 * Elementwise operators with numpy broadcasting: the CPU twin of broadcast-kernel.ts.
 *
 * Computes out[i] = OP(in0[o0(i)], in1[o1(i)], in2[o2(i)]) for one to three operands (exports
 * elementwise_1/2/3), every value a 32-bit word: f32, i32 (int64 narrowed) or bool as u32 0/1.
 * OP is a code from EW_OPS below, the one table of operators; cpu-kernel.ts holds the same codes
 * (a test compares the two) and packs the uniforms:
 *   u[0] op code, u[1] rank r >= 1, u[2] u[3] f32 parameters (alpha, beta),
 *   u[4 .. 4+r) output dims, then r strides (in words) for each operand.
 * The planner has dropped size-1 axes and merged every pair of axes all operands read as one, so
 * an all-contiguous op arrives as rank 1, and the innermost axis is a row that each operand reads
 * either contiguously (stride 1) or as one value broadcast along it (stride 0). The kernel walks
 * rows with an odometer over the outer axes; each row runs a loop compiled for its op and for which
 * operands are broadcast (loaded once as a splat), 4 lanes per step with the tail run through the
 * same vector code on a partial vector, so each operator is written once, as a vector expression.
 *
 * Float results follow the TypeScript reference (double precision rounded to f32). exp, log, tanh
 * and sigmoid are Cephes-style polynomials, erf uses the reference's own formulas; measured against
 * the reference: at most 1.2e-7 relative (exp, log, tanh), 1.6e-7 (sigmoid), 3.3e-7 (erf), and
 * for Gelu 5e-7 absolute, its relative error reaching 4e-6 only in the negative tail below 1e-7.
 * Integer arithmetic wraps like the reference's Int32Array stores: division truncates (x/0 gives x
 * and INT32_MIN/-1 wraps where wasm's i32.div_s would trap), Pow is computed in double.
 */
#include "tessera.h"
#include "../shared/vmath.h"

typedef struct {
  v128_t alpha, beta;
} Params;

/* A comparison mask (all ones or zero per lane) as a bool word, 1 or 0. */
AI v128_t bool_of(v128_t mask) { return wasm_u32x4_shr(mask, 31); }
AI v128_t truthy(v128_t x) { return wasm_v128_not(wasm_i32x4_eq(x, i32s(0))); }

AI v128_t gelu_f32x4(v128_t x) {
  v128_t e = erf_or_one_plus_f32x4(wasm_f32x4_mul(x, f32s(0.707106781186547524f)), 1);
  return wasm_f32x4_mul(wasm_f32x4_mul(x, f32s(0.5f)), e);
}

/* 0.5 x (1 + tanh(u)) = x sigmoid(2u): no cancellation where tanh(u) nears -1. */
AI v128_t gelu_tanh_f32x4(v128_t x) {
  v128_t x3 = wasm_f32x4_mul(wasm_f32x4_mul(x, x), x);
  v128_t u2 = wasm_f32x4_mul(f32s(1.5957691216f), wasm_f32x4_add(x, wasm_f32x4_mul(x3, f32s(0.044715f))));
  return wasm_f32x4_mul(x, sigmoid_f32x4(u2));
}

/* 0 and -0 stay themselves, as do NaNs (Math.sign). */
AI v128_t sign_f32x4(v128_t x) {
  v128_t r = wasm_v128_bitselect(f32s(1.0f), x, wasm_f32x4_gt(x, f32s(0.0f)));
  return wasm_v128_bitselect(f32s(-1.0f), r, wasm_f32x4_lt(x, f32s(0.0f)));
}

AI v128_t hard_sigmoid_f32x4(v128_t x, v128_t alpha, v128_t beta) {
  v128_t y = wasm_f32x4_add(wasm_f32x4_mul(alpha, x), beta);
  return wasm_f32x4_max(f32s(0.0f), wasm_f32x4_min(f32s(1.0f), y));
}

/* a ** b as JS (the reference) computes it: NaN where C's pow gives 1 (NaN exponents, +-1 to +-inf). */
static double js_pow(double a, double b) {
  if (b != b || (fabs(a) == 1.0 && isinf(b))) return NAN;
  return pow(a, b);
}

/* Math.trunc(x) stored to an Int32Array: ToInt32 wraps modulo 2^32, non-finite gives 0. */
static int32_t to_int32(double x) {
  x = trunc(x);
  if (!isfinite(x)) return 0;
  return (int32_t)(uint32_t)(int64_t)fmod(x, 4294967296.0);
}

#define LANE(v, is_int, l) ((is_int) ? (double)wasm_i32x4_extract_lane(v, l) : (double)wasm_f32x4_extract_lane(v, l))
#define POW_LANE(l) js_pow(LANE(a, int_base, l), LANE(b, int_exp, l))

/* Pow for any mix of float and integer base and exponent (ONNX allows all four), lane by lane in
 * double like the reference: libm's pow is correctly rounded where a vector exp(y log x) would lose
 * bits. A float x^2, by far the commonest Pow in models, is one exact multiply. */
AI v128_t pow_x4(v128_t a, v128_t b, const int int_base, const int int_exp) {
  if (!int_base) {
    v128_t two = int_exp ? wasm_i32x4_eq(b, i32s(2)) : wasm_f32x4_eq(b, f32s(2.0f));
    if (wasm_i32x4_all_true(two)) return wasm_f32x4_mul(a, a);
    return wasm_f32x4_make((float)POW_LANE(0), (float)POW_LANE(1), (float)POW_LANE(2), (float)POW_LANE(3));
  }
  return wasm_i32x4_make(to_int32(POW_LANE(0)), to_int32(POW_LANE(1)), to_int32(POW_LANE(2)), to_int32(POW_LANE(3)));
}

/* x/0 is undefined in ONNX: the reference and WGSL give x. INT32_MIN/-1 wraps like the reference. */
static int32_t div_lane_i32(int32_t a, int32_t b) {
  if (b == 0) return a;
  if (b == -1) return (int32_t)(0u - (uint32_t)a);
  return a / b;
}

#define LANEWISE_I32(f, a, b)                                                               \
  wasm_i32x4_make(f(wasm_i32x4_extract_lane(a, 0), wasm_i32x4_extract_lane(b, 0)),        \
                  f(wasm_i32x4_extract_lane(a, 1), wasm_i32x4_extract_lane(b, 1)),        \
                  f(wasm_i32x4_extract_lane(a, 2), wasm_i32x4_extract_lane(b, 2)),        \
                  f(wasm_i32x4_extract_lane(a, 3), wasm_i32x4_extract_lane(b, 3)))

/*
 * The operators: X(NAME, CODE, ARITY, vector expression over operands a, b, c and Params *P).
 * Codes are part of the contract with cpu-kernel.ts (CPU_OPS); a repeated code fails to compile.
 * _F32 reads floats, _I32 integers or bools (POW_F32_I32: float base, integer exponent);
 * comparisons give bools.
 */
#define EW_OPS(X)                                                                                         \
  X(COPY, 0, 1, a)                                                                                        \
  X(ADD_F32, 1, 2, wasm_f32x4_add(a, b))                                                                  \
  X(ADD_I32, 2, 2, wasm_i32x4_add(a, b))                                                                  \
  X(SUB_F32, 3, 2, wasm_f32x4_sub(a, b))                                                                  \
  X(SUB_I32, 4, 2, wasm_i32x4_sub(a, b))                                                                  \
  X(MUL_F32, 5, 2, wasm_f32x4_mul(a, b))                                                                  \
  X(MUL_I32, 6, 2, wasm_i32x4_mul(a, b))                                                                  \
  X(DIV_F32, 7, 2, wasm_f32x4_div(a, b))                                                                  \
  X(DIV_I32, 8, 2, LANEWISE_I32(div_lane_i32, a, b))                                                      \
  X(POW_F32, 9, 2, pow_x4(a, b, 0, 0))                                                                    \
  X(POW_I32, 10, 2, pow_x4(a, b, 1, 1))                                                                   \
  X(MAX_F32, 11, 2, wasm_f32x4_max(a, b))                                                                 \
  X(MAX_I32, 12, 2, wasm_i32x4_max(a, b))                                                                 \
  X(MIN_F32, 13, 2, wasm_f32x4_min(a, b))                                                                 \
  X(MIN_I32, 14, 2, wasm_i32x4_min(a, b))                                                                 \
  X(EQUAL_F32, 15, 2, bool_of(wasm_f32x4_eq(a, b)))                                                       \
  X(EQUAL_I32, 16, 2, bool_of(wasm_i32x4_eq(a, b)))                                                       \
  X(LESS_F32, 17, 2, bool_of(wasm_f32x4_lt(a, b)))                                                        \
  X(LESS_I32, 18, 2, bool_of(wasm_i32x4_lt(a, b)))                                                        \
  X(LESS_EQUAL_F32, 19, 2, bool_of(wasm_f32x4_le(a, b)))                                                  \
  X(LESS_EQUAL_I32, 20, 2, bool_of(wasm_i32x4_le(a, b)))                                                  \
  X(GREATER_F32, 21, 2, bool_of(wasm_f32x4_gt(a, b)))                                                     \
  X(GREATER_I32, 22, 2, bool_of(wasm_i32x4_gt(a, b)))                                                     \
  X(GREATER_EQUAL_F32, 23, 2, bool_of(wasm_f32x4_ge(a, b)))                                               \
  X(GREATER_EQUAL_I32, 24, 2, bool_of(wasm_i32x4_ge(a, b)))                                               \
  X(AND, 25, 2, bool_of(wasm_v128_and(truthy(a), truthy(b))))                                             \
  X(OR, 26, 2, bool_of(wasm_v128_or(truthy(a), truthy(b))))                                               \
  X(XOR, 27, 2, bool_of(wasm_v128_xor(truthy(a), truthy(b))))                                             \
  X(NOT, 28, 1, bool_of(wasm_i32x4_eq(a, i32s(0))))                                                       \
  X(WHERE, 29, 3, wasm_v128_bitselect(b, c, truthy(a)))                                                   \
  X(CLIP_F32, 30, 3, wasm_f32x4_min(wasm_f32x4_max(a, b), c))                                             \
  X(CLIP_I32, 31, 3, wasm_i32x4_min(wasm_i32x4_max(a, b), c))                                             \
  X(RELU_F32, 32, 1, wasm_f32x4_max(a, f32s(0.0f)))                                                       \
  X(RELU_I32, 33, 1, wasm_i32x4_max(a, i32s(0)))                                                          \
  X(LEAKY_RELU, 34, 1, wasm_v128_bitselect(a, wasm_f32x4_mul(P->alpha, a), wasm_f32x4_ge(a, f32s(0.0f)))) \
  X(SIGMOID, 35, 1, sigmoid_f32x4(a))                                                                     \
  X(HARD_SIGMOID, 36, 1, hard_sigmoid_f32x4(a, P->alpha, P->beta))                                        \
  X(HARD_SWISH, 37, 1, wasm_f32x4_mul(a, hard_sigmoid_f32x4(a, f32s(1.0f / 6.0f), f32s(0.5f))))           \
  X(TANH, 38, 1, tanh_f32x4(a))                                                                           \
  X(ERF, 39, 1, erf_or_one_plus_f32x4(a, 0))                                                              \
  X(GELU, 40, 1, gelu_f32x4(a))                                                                           \
  X(GELU_TANH, 41, 1, gelu_tanh_f32x4(a))                                                                 \
  X(SQRT, 42, 1, wasm_f32x4_sqrt(a))                                                                      \
  X(EXP, 43, 1, exp_f32x4(a))                                                                             \
  X(LOG, 44, 1, log_f32x4(a))                                                                             \
  X(RECIPROCAL, 45, 1, wasm_f32x4_div(f32s(1.0f), a))                                                     \
  X(FLOOR, 46, 1, wasm_f32x4_floor(a))                                                                    \
  X(CEIL, 47, 1, wasm_f32x4_ceil(a))                                                                      \
  X(ABS_F32, 48, 1, wasm_f32x4_abs(a))                                                                    \
  X(ABS_I32, 49, 1, wasm_i32x4_abs(a))                                                                    \
  X(NEG_F32, 50, 1, wasm_f32x4_neg(a))                                                                    \
  X(NEG_I32, 51, 1, wasm_i32x4_neg(a))                                                                    \
  X(SIGN_F32, 52, 1, sign_f32x4(a))                                                                       \
  X(SIGN_I32, 53, 1, wasm_i32x4_sub(wasm_i32x4_lt(a, i32s(0)), wasm_i32x4_gt(a, i32s(0))))                \
  /* Saturating truncation is the reference's cast: NaN to 0, out of range to the nearest end. */         \
  X(F32_TO_I32, 54, 1, wasm_i32x4_trunc_sat_f32x4(a))                                                     \
  X(F32_TO_BOOL, 55, 1, bool_of(wasm_f32x4_ne(a, f32s(0.0f))))                                            \
  X(I32_TO_F32, 56, 1, wasm_f32x4_convert_i32x4(a))                                                       \
  X(I32_TO_BOOL, 57, 1, bool_of(truthy(a)))                                                               \
  X(POW_F32_I32, 58, 2, pow_x4(a, b, 0, 1))                                                               \
  X(POW_I32_F32, 59, 2, pow_x4(a, b, 1, 0))

AI v128_t apply(const uint32_t op, v128_t a, v128_t b, v128_t c, const Params* P) {
  switch (op) {
#define X(NAME, CODE, ARITY, EXPR) \
  case CODE:                       \
    return (EXPR);
    EW_OPS(X)
#undef X
  }
  return a;
}

/* The tail of a row (1 to 3 words) goes through a zero-padded vector, lane by lane: a loop here
 * becomes a memcpy call, which costs more than the row when rows are short. */
AI v128_t load_part(const uint32_t* p, uint32_t n) {
  v128_t v = wasm_v128_load32_zero(p);
  if (n > 1) v = wasm_v128_load32_lane(p + 1, v, 1);
  if (n > 2) v = wasm_v128_load32_lane(p + 2, v, 2);
  return v;
}

AI void store_part(uint32_t* p, v128_t v, uint32_t n) {
  wasm_v128_store32_lane(p, v, 0);
  if (n > 1) wasm_v128_store32_lane(p + 1, v, 1);
  if (n > 2) wasm_v128_store32_lane(p + 2, v, 2);
}

/* One row; bit k of `bcast` set when operand k is one value broadcast along it. Loads precede the
 * store of each step, so `out` may be operand a (variadic ops accumulate in place). */
AI void row(const uint32_t op, const uint32_t bcast, uint32_t len, const uint32_t* a, const uint32_t* b,
            const uint32_t* c, uint32_t* out, const Params* P) {
  const v128_t sa = wasm_v128_load32_splat(a), sb = wasm_v128_load32_splat(b), sc = wasm_v128_load32_splat(c);
  uint32_t i = 0;
  for (; i + 4 <= len; i += 4) {
    v128_t va = (bcast & 1) ? sa : wasm_v128_load(a + i);
    v128_t vb = (bcast & 2) ? sb : wasm_v128_load(b + i);
    v128_t vc = (bcast & 4) ? sc : wasm_v128_load(c + i);
    wasm_v128_store(out + i, apply(op, va, vb, vc, P));
  }
  if (i < len) {
    uint32_t n = len - i;
    v128_t va = (bcast & 1) ? sa : load_part(a + i, n);
    v128_t vb = (bcast & 2) ? sb : load_part(b + i, n);
    v128_t vc = (bcast & 4) ? sc : load_part(c + i, n);
    store_part(out + i, apply(op, va, vb, vc, P), n);
  }
}

/* One loop per broadcast pattern an op of that arity can meet. Every operand broadcast happens only
 * on rows of length 1 (an output axis longer than 1 comes from some operand), where loading and
 * splatting read the same word, so that pattern shares the contiguous loop. */
#define ROW(m) row(op, m, len, a, b, c, out, P)
AI void rows1(const uint32_t op, uint32_t bcast, uint32_t len, const uint32_t* a, const uint32_t* b,
              const uint32_t* c, uint32_t* out, const Params* P) {
  ROW(0);
}

AI void rows2(const uint32_t op, uint32_t bcast, uint32_t len, const uint32_t* a, const uint32_t* b,
              const uint32_t* c, uint32_t* out, const Params* P) {
  switch (bcast) {
    case 1: ROW(1); return;
    case 2: ROW(2); return;
    default: ROW(0); return;
  }
}

AI void rows3(const uint32_t op, uint32_t bcast, uint32_t len, const uint32_t* a, const uint32_t* b,
              const uint32_t* c, uint32_t* out, const Params* P) {
  switch (bcast) {
    case 1: ROW(1); return;
    case 2: ROW(2); return;
    case 3: ROW(3); return;
    case 4: ROW(4); return;
    case 5: ROW(5); return;
    case 6: ROW(6); return;
    default: ROW(0); return;
  }
}
#undef ROW

static void run_row(uint32_t op, uint32_t bcast, uint32_t len, const uint32_t* a, const uint32_t* b,
                    const uint32_t* c, uint32_t* out, const Params* P) {
  switch (op) {
#define X(NAME, CODE, ARITY, EXPR)                  \
  case CODE:                                        \
    rows##ARITY(CODE, bcast, len, a, b, c, out, P); \
    return;
    EW_OPS(X)
#undef X
  }
}

/* Inlined into each export, so loops over the operands unroll for its arity. */
AI void elementwise(const uint32_t arity, const uint32_t* const in[3], uint32_t* out, const uint32_t* u) {
  const uint32_t op = u[0], rank = u[1];
  const Params P = {wasm_v128_load32_splat(u + 2), wasm_v128_load32_splat(u + 3)};
  const uint32_t* dims = u + 4;
  const uint32_t* strides = dims + rank;
  const uint32_t len = dims[rank - 1];
  uint32_t bcast = 0, rows = 1;
  for (uint32_t k = 0; k < arity; k++) bcast |= (strides[k * rank + rank - 1] == 0) << k;
  for (uint32_t d = 0; d + 1 < rank; d++) rows *= dims[d];
  uint32_t idx[rank];
  memset(idx, 0, sizeof idx);
  uint32_t off[3] = {0, 0, 0};
  for (uint32_t r = 0; r < rows; r++) {
    run_row(op, bcast, len, in[0] + off[0], in[1] + off[1], in[2] + off[2], out + r * len, &P);
    for (int d = (int)rank - 2; d >= 0; d--) {
      for (uint32_t k = 0; k < arity; k++) off[k] += strides[k * rank + d];
      if (++idx[d] < dims[d]) break;
      for (uint32_t k = 0; k < arity; k++) off[k] -= strides[k * rank + d] * dims[d];
      idx[d] = 0;
    }
  }
}

/* Unused operand slots point at operand 0: valid memory the op never reads. */
KERNEL(elementwise_1) void elementwise_1(const uint32_t* a, uint32_t* out, const uint32_t* u) {
  const uint32_t* const in[3] = {a, a, a};
  elementwise(1, in, out, u);
}

KERNEL(elementwise_2) void elementwise_2(const uint32_t* a, const uint32_t* b, uint32_t* out, const uint32_t* u) {
  const uint32_t* const in[3] = {a, b, a};
  elementwise(2, in, out, u);
}

KERNEL(elementwise_3)
void elementwise_3(const uint32_t* a, const uint32_t* b, const uint32_t* c, uint32_t* out, const uint32_t* u) {
  const uint32_t* const in[3] = {a, b, c};
  elementwise(3, in, out, u);
}
