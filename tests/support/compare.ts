import type { Tensor } from '../../core/tensor.js';

/**
 * The acceptance rule every conformance and model test uses: an element passes when it is within
 * ABS_TOL of the expected value, or within REL_TOL of it where the value is large (so a 1e-4 bound
 * does not demand more digits than float32 holds). Integer and bool outputs must be exact.
 */
export const ABS_TOL = 1e-4;
export const REL_TOL = 1e-3;

export interface Comparison {
  /** Largest |actual − expected|. */
  readonly abs: number;
  /** Largest |actual − expected| / |expected| over elements with |expected| ≥ 1 (relative error of small values says little). */
  readonly rel: number;
  readonly ok: boolean;
  /** First failing element, described, when !ok. */
  readonly problem?: string;
}

type Kind = 'float' | 'integer' | 'bool';
/** int64 is narrowed to int32 in this runtime, so both are one kind compared numerically. */
const kindOf = (t: Tensor): Kind => (t.dtype === 'float32' ? 'float' : t.dtype === 'bool' ? 'bool' : 'integer');

export function compareTensors(actual: Tensor, expected: Tensor): Comparison {
  const dimsOk = actual.dims.length === expected.dims.length && actual.dims.every((d, i) => d === expected.dims[i]);
  if (!dimsOk) return { abs: Infinity, rel: Infinity, ok: false, problem: `dims [${actual.dims.join(', ')}], expected [${expected.dims.join(', ')}]` };
  if (kindOf(actual) !== kindOf(expected)) {
    return { abs: Infinity, rel: Infinity, ok: false, problem: `dtype ${actual.dtype}, expected ${expected.dtype}` };
  }
  const exact = kindOf(expected) !== 'float';
  let abs = 0;
  let rel = 0;
  let problem: string | undefined;
  for (let i = 0; i < expected.data.length; i++) {
    const a = actual.data[i]!;
    const e = expected.data[i]!;
    if (a === e || (Number.isNaN(a) && Number.isNaN(e))) continue;
    const d = Number.isNaN(a - e) ? Infinity : Math.abs(a - e);
    abs = Math.max(abs, d);
    if (Math.abs(e) >= 1) rel = Math.max(rel, d / Math.abs(e));
    const pass = !exact && (d <= ABS_TOL || d <= REL_TOL * Math.abs(e));
    if (!pass && problem === undefined) problem = `element ${i}: got ${a}, expected ${e}`;
  }
  return { abs, rel, ok: problem === undefined, problem };
}

export const fmt = (x: number): string => (x === 0 ? '0' : x.toExponential(2));
