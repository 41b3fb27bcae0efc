import type { DType } from '../core/tensor.js';

/**
 * Small template helpers shared by the kernels. Kernel bodies live in `.wgsl` files; these only
 * splice in the parts that vary by specialisation (element types, activation, parameter block).
 */

export function wgslType(dtype: DType): 'f32' | 'i32' | 'u32' {
  return dtype === 'float32' ? 'f32' : dtype === 'bool' ? 'u32' : 'i32';
}

/** Packs kernel parameters into 32-bit words for a `array<vec4<u32>, N>` uniform. */
export class Params {
  private readonly words: number[] = [];
  private readonly f32 = new Float32Array(1);
  private readonly u32 = new Uint32Array(this.f32.buffer);

  u32s(...values: readonly number[]): this {
    for (const v of values) this.words.push(v >>> 0);
    return this;
  }

  i32s(...values: readonly number[]): this {
    for (const v of values) this.words.push(v | 0);
    return this;
  }

  f32s(...values: readonly number[]): this {
    for (const v of values) {
      this.f32[0] = v;
      this.words.push(this.u32[0]!);
    }
    return this;
  }

  get length(): number {
    return this.words.length;
  }

  /** Padded to whole vec4s, as uniform arrays require 16-byte elements. */
  pack(): Uint32Array {
    const out = new Uint32Array(Math.max(4, Math.ceil(this.words.length / 4) * 4));
    out.set(this.words.map((w) => w >>> 0));
    return out;
  }
}

/**
 * Declares the parameter block at `binding` with accessors p_u(i), p_i(i), p_f(i).
 * `words` is the number of 32-bit words the kernel reads; it fixes the array length in the source,
 * which depends on rank only, never on the dims themselves.
 */
export function paramsDecl(binding: number, words: number): string {
  const vecs = Math.max(1, Math.ceil(words / 4));
  return `@group(0) @binding(${binding}) var<uniform> params: array<vec4<u32>, ${vecs}>;
fn p_u(i: u32) -> u32 { return params[i / 4u][i % 4u]; }
fn p_i(i: u32) -> i32 { return bitcast<i32>(params[i / 4u][i % 4u]); }
fn p_f(i: u32) -> f32 { return bitcast<f32>(params[i / 4u][i % 4u]); }
`;
}

/** One storage-buffer binding of group 0: `name` as array<`type`>, read-only unless `mode` says otherwise. */
export const storageDecl = (name: string, binding: number, type = 'f32', mode: 'read' | 'read_write' = 'read'): string =>
  `@group(0) @binding(${binding}) var<storage, ${mode}> ${name}: array<${type}>;`;

/** Fused activations: the epilogue a matmul/conv/elementwise kernel applies before storing. */
export interface Activation {
  readonly kind: 'Relu' | 'LeakyRelu' | 'Clip' | 'Sigmoid' | 'HardSigmoid' | 'HardSwish' | 'Tanh' | 'Gelu';
  readonly alpha?: number;
  readonly beta?: number;
}

function lit(x: number): string {
  if (x === Infinity) return '3.4028234e38';
  if (x === -Infinity) return '-3.4028234e38';
  const s = String(x);
  return /[.eE]/.test(s) ? s : `${s}.0`;
}

/**
 * The WGSL expression of an activation over `x` (an identifier: it may be read more than once).
 * NaN comes out wherever the reference (epilogue.ts `activate`, Math.max/min) and the C act_vec
 * (pmax/pmin) give NaN: WGSL's max/min/clamp may drop NaN and exp need not propagate it, so those
 * kinds select x (or y) back on is_nan (NAN_FNS). Gelu calls erf_f (ERF_FN).
 */
export function activationExpr(act: Activation, x: string): string {
  const a = act.alpha;
  const b = act.beta;
  switch (act.kind) {
    case 'Relu': return keepNan(`max(${x}, 0.0)`, x);
    // NaN >= 0 is false, so a NaN picks alpha * NaN = NaN.
    case 'LeakyRelu': return `select(${lit(a ?? 0.01)} * ${x}, ${x}, ${x} >= 0.0)`;
    // min(max()) rather than clamp: with lo > hi clamp may give lo, the reference gives hi.
    // An infinite bound is left out: as a literal it would be ±f32 max and clip ±inf to it.
    case 'Clip': {
      const lo = a === undefined || a === -Infinity ? x : `max(${x}, ${lit(a)})`;
      return keepNan(b === undefined || b === Infinity ? lo : `min(${lo}, ${lit(b)})`, x);
    }
    // exp(NaN) need not be NaN (SwiftShader gives a finite or infinite value: Sigmoid came out 0).
    case 'Sigmoid': return keepNan(`1.0 / (1.0 + exp(-${x}))`, x);
    // y, not x: alpha * inf can be NaN too (alpha = 0), and the reference clamps y.
    case 'HardSigmoid': {
      const y = `(${lit(a ?? 0.2)} * ${x} + ${lit(b ?? 0.5)})`;
      return keepNan(`clamp(${y}, 0.0, 1.0)`, y);
    }
    // A NaN x makes the product NaN whatever the clamp gives, as in the reference.
    case 'HardSwish': return `(${x} * clamp(${x} / 6.0 + 0.5, 0.0, 1.0))`;
    // tanh(x) for |x| large overflows exp in some drivers; clamp keeps it exact in f32 (and may
    // turn NaN into ±15, hence the select).
    case 'Tanh': return keepNan(`tanh(clamp(${x}, -15.0, 15.0))`, x);
    case 'Gelu': return `(0.5 * ${x} * (1.0 + erf_f(${x} * 0.70710678118654752)))`;
  }
}

/** `expr`, or `x` where x is NaN (NAN_FNS): for the WGSL built-ins that need not propagate NaN. */
export function keepNan(expr: string, x: string): string {
  return `select(${expr}, ${x}, is_nan(${x}))`;
}

/** The helper functions activationExpr's WGSL calls. */
export function activationHelpers(act: Activation | undefined): string {
  if (!act) return '';
  return act.kind === 'Gelu' ? ERF_FN : /\bis_nan\(/.test(activationExpr(act, 'x')) ? NAN_FNS : '';
}

/** WGSL for `fn activation(x: f32) -> f32`, the fused epilogue; identity when none is fused. */
export function activationFn(act: Activation | undefined): string {
  return `${activationHelpers(act)}fn activation(x: f32) -> f32 { return ${act ? activationExpr(act, 'x') : 'x'}; }\n`;
}

/**
 * NaN-propagating max and min for f32, like Math.max/min in the references and the C kernels'
 * max_nan/min_nan: a NaN operand is returned. WGSL lets implementations assume NaN is absent
 * (max/min may drop it, `x != x` may fold to false), so is_nan tests the bits: exponent all ones,
 * mantissa not zero, an integer comparison no float fast-math removes.
 */
export const NAN_FNS = `// NaN found on the bits: WGSL may assume NaN absent, so max/min and x != x cannot be trusted.
fn is_nan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
fn max_nan(a: f32, b: f32) -> f32 { return select(select(max(a, b), b, is_nan(b)), a, is_nan(a)); }
fn min_nan(a: f32, b: f32) -> f32 { return select(select(min(a, b), b, is_nan(b)), a, is_nan(a)); }
`;

/**
 * erf for f32: below |x| = 0.5 W. J. Cody's rational approximation, above it erfc by the
 * Numerical Recipes fit (1.2e-7), the same split as the reference's erf. A NaN x comes back NaN
 * (exp need not propagate it).
 */
export const ERF_FN = `${NAN_FNS}fn erf_f(x: f32) -> f32 {
  let ax = abs(x);
  if (ax < 0.5) {
    let t = x * x;
    let n = (((0.185777706 * t + 3.16112374) * t + 113.864154) * t + 377.485238) * t + 3209.37759;
    let d = (((t + 23.6012909) * t + 244.024638) * t + 1282.61653) * t + 2844.23683;
    return x * n / d;
  }
  let t = 1.0 / (1.0 + 0.5 * ax);
  let r = t * exp(-ax * ax - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return select(select(r - 1.0, 1.0 - r, x >= 0.0), x, is_nan(x));
}
`;

/** Splits a flat element count over x and y so no dimension exceeds the 65535-workgroup limit. */
export function dispatch1d(elements: number, workgroupSize: number): [number, number, number] {
  const groups = Math.max(1, Math.ceil(elements / workgroupSize));
  if (groups <= 65535) return [groups, 1, 1];
  const y = Math.ceil(groups / 65535);
  return [Math.ceil(groups / y), y, 1];
}

/** The flat invocation index matching dispatch1d; `wg` is the workgroup size. */
export function flatIndex(wg: number): string {
  return `(gid.x + gid.y * nwg.x * ${wg}u)`;
}
