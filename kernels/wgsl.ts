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
 * WGSL for `fn activation(x: f32) -> f32`; identity when no activation is fused. NaN comes out
 * wherever the reference (epilogue.ts `activate`, Math.max/min) and the C act_vec (pmax/pmin) give
 * NaN: WGSL's max/min/clamp may drop NaN and exp need not propagate it, so those kinds select x
 * (or y) back on is_nan.
 */
export function activationFn(act: Activation | undefined): string {
  const body = ((): string => {
    if (!act) return 'return x;';
    const a = act.alpha;
    const b = act.beta;
    switch (act.kind) {
      case 'Relu': return 'return select(max(x, 0.0), x, is_nan(x));';
      // NaN >= 0 is false, so a NaN picks alpha * NaN = NaN.
      case 'LeakyRelu': return `return select(${lit(a ?? 0.01)} * x, x, x >= 0.0);`;
      // min(max()) rather than clamp: with lo > hi clamp may give lo, the reference gives hi.
      case 'Clip': return `return select(min(max(x, ${lit(a ?? -Infinity)}), ${lit(b ?? Infinity)}), x, is_nan(x));`;
      // exp(NaN) need not be NaN (SwiftShader gives a finite or infinite value: Sigmoid came out 0).
      case 'Sigmoid': return 'return select(1.0 / (1.0 + exp(-x)), x, is_nan(x));';
      // y, not x: alpha * inf can be NaN too (alpha = 0), and the reference clamps y.
      case 'HardSigmoid': return `let y = ${lit(a ?? 0.2)} * x + ${lit(b ?? 0.5)}; return select(clamp(y, 0.0, 1.0), y, is_nan(y));`;
      // A NaN x makes the product NaN whatever the clamp gives, as in the reference.
      case 'HardSwish': return 'return x * clamp(x / 6.0 + 0.5, 0.0, 1.0);';
      // tanh(x) for |x| large overflows exp in some drivers; clamp keeps it exact in f32 (and may
      // turn NaN into ±15, hence the select).
      case 'Tanh': return 'return select(tanh(clamp(x, -15.0, 15.0)), x, is_nan(x));';
      case 'Gelu': return 'return 0.5 * x * (1.0 + erf_approx(x * 0.70710678118654752));';
    }
  })();
  const helpers = act?.kind === 'Gelu' ? ERF_FN : /\bis_nan\(/.test(body) ? NAN_FNS : '';
  return `${helpers}fn activation(x: f32) -> f32 { ${body} }\n`;
}

/**
 * erf by Abramowitz & Stegun 7.1.26 (max abs error 1.5e-7 in exact arithmetic, about 1e-6 once
 * evaluated in f32), which loses relative accuracy near 0: below |x| = 0.5 the odd Taylor series.
 */
export const ERF_FN = `fn erf_approx(x: f32) -> f32 {
  let ax = abs(x);
  if (ax < 0.5) {
    let x2 = x * x;
    return x * (1.1283791671 + x2 * (-0.3761263890 + x2 * (0.1128379167 + x2 * (-0.0268661706 + x2 * 0.0052239776))));
  }
  let t = 1.0 / (1.0 + 0.3275911 * ax);
  let y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * exp(-ax * ax);
  return select(-y, y, x >= 0.0);
}
`;

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
