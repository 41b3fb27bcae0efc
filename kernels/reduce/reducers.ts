import { NAN_FNS } from '../wgsl.js';

/**
 * The reductions as one table: each entry says, in TypeScript (the reference), in WGSL (spliced
 * into reduce.wgsl) and as reduce.c's walk and final codes, how a row of values folds into one. Keeping both side by side means the two
 * definitions cannot drift apart unnoticed.
 *
 * The WGSL side defines, for element type `T`: `alias Acc` (the running state), `alias O` (the
 * output element), `acc_init()`, `acc_step(a, x, r)` (fold element `x` at row position `r`),
 * `acc_merge(a, b)` (combine two partial states, in any order) and `acc_final(a, n)` (`n` = row
 * length).
 */

/** Walk and final step codes of reduce.c (its W_* and F_* enums). */
const CPU_WALK = { sum: 0, max: 1, min: 2, prod: 3, absSum: 4, squareSum: 5, expSum: 6 } as const;
const CPU_FINAL = { none: 0, mean: 1, sqrt: 2, log: 3, logSumExp: 4 } as const;

/** Which reduce.c kernel folds a row, and the two codes it reads from params words 5 and 6. */
export interface CpuReduce {
  readonly fn: 'reduce_fold' | 'reduce_arg';
  readonly op: number;
  readonly op2: number;
}

const fold = (walk: keyof typeof CPU_WALK, final: keyof typeof CPU_FINAL = 'none'): CpuReduce => ({ fn: 'reduce_fold', op: CPU_WALK[walk], op2: CPU_FINAL[final] });

export interface Reducer {
  /** Folds one row (the reference); `int` selects wrapping int32 arithmetic. */
  readonly ref: (row: readonly number[], int: boolean) => number;
  readonly wgsl: (T: 'f32' | 'i32') => string;
  readonly cpu: CpuReduce;
  /** Reductions only defined on floats (their result is not an integer). */
  readonly floatOnly?: boolean;
  /** The output is an index (int64), not a value. */
  readonly index?: boolean;
}

/**
 * The most negative / positive value of T: the identity of max / min. Infinity cannot be a WGSL
 * constant expression (const evaluation rejects it), so it is read from a private variable.
 */
const INF = `var<private> f32_inf_bits: u32 = 0x7f800000u;
fn f32_inf() -> f32 { return bitcast<f32>(f32_inf_bits); }
`;
const lowest = (T: string): string => (T === 'f32' ? '-f32_inf()' : 'i32(-2147483648)');
const highest = (T: string): string => (T === 'f32' ? 'f32_inf()' : 'i32(2147483647)');

interface Fold {
  readonly init: (T: string) => string;
  /** The contribution of one element. */
  readonly map?: (x: string) => string;
  readonly combine: (a: string, b: string, T: string) => string;
  readonly final?: (a: string, T: string) => string;
}

/** A reduction that maps each element, then folds with an associative, commutative `combine`. */
function foldWgsl(f: Fold): (T: string) => string {
  return (T) => `${INF}${NAN_FNS}alias Acc = ${T};
alias O = ${T};
fn acc_init() -> Acc { return ${f.init(T)}; }
fn acc_step(a: Acc, x: T, r: u32) -> Acc { return ${f.combine('a', f.map ? f.map('x') : 'x', T)}; }
fn acc_merge(a: Acc, b: Acc) -> Acc { return ${f.combine('a', 'b', T)}; }
fn acc_final(a: Acc, n: u32) -> O { return ${f.final ? f.final('a', T) : 'a'}; }
`;
}

const add = (a: string, b: string): string => `${a} + ${b}`;
/** max / min, NaN-propagating on f32 as Math.max / Math.min are (WGSL's max/min need not be). */
const extremum = (fn: 'max' | 'min') => (a: string, b: string, T: string): string => `${T === 'f32' ? `${fn}_nan` : fn}(${a}, ${b})`;
const zero = (T: string): string => `${T}(0)`;

const sum = (row: readonly number[], int: boolean, map: (x: number) => number = (x) => x): number => {
  let s = 0;
  for (const x of row) s = int ? (s + map(x)) | 0 : s + map(x);
  return s;
};
const square = (x: number): number => x * x;
/** x² wrapped to int32: x * x in doubles loses the low bits once |x| passes 2^26.5. */
const squareInt = (x: number): number => Math.imul(x, x);

export const REDUCERS: Readonly<Record<string, Reducer>> = {
  ReduceSum: { ref: (row, int) => sum(row, int), wgsl: foldWgsl({ init: zero, combine: add }), cpu: fold('sum') },
  ReduceMean: {
    ref: (row, int) => (int ? Math.trunc(sum(row, int) / row.length) : sum(row, int) / row.length),
    wgsl: foldWgsl({ init: zero, combine: add, final: (a, T) => `${a} / ${T}(n)` }),
    cpu: fold('sum', 'mean'),
  },
  ReduceMax: {
    // An empty row gives the identity, which for int32 is its lowest value (−Infinity would
    // store as 0).
    ref: (row, int) => row.reduce((m, x) => Math.max(m, x), int ? -(2 ** 31) : -Infinity),
    wgsl: foldWgsl({ init: lowest, combine: extremum('max') }),
    cpu: fold('max'),
  },
  ReduceMin: {
    ref: (row, int) => row.reduce((m, x) => Math.min(m, x), int ? 2 ** 31 - 1 : Infinity),
    wgsl: foldWgsl({ init: highest, combine: extremum('min') }),
    cpu: fold('min'),
  },
  ReduceProd: {
    ref: (row, int) => row.reduce((p, x) => (int ? Math.imul(p, x) : p * x), 1),
    wgsl: foldWgsl({ init: (T) => `${T}(1)`, combine: (a, b) => `${a} * ${b}` }),
    cpu: fold('prod'),
  },
  ReduceL1: { ref: (row, int) => sum(row, int, Math.abs), wgsl: foldWgsl({ init: zero, map: (x) => `abs(${x})`, combine: add }), cpu: fold('absSum') },
  ReduceL2: {
    floatOnly: true,
    ref: (row) => Math.sqrt(sum(row, false, square)),
    wgsl: foldWgsl({ init: zero, map: (x) => `${x} * ${x}`, combine: add, final: (a) => `sqrt(${a})` }),
    cpu: fold('squareSum', 'sqrt'),
  },
  ReduceSumSquare: { ref: (row, int) => sum(row, int, int ? squareInt : square), wgsl: foldWgsl({ init: zero, map: (x) => `${x} * ${x}`, combine: add }), cpu: fold('squareSum') },
  ReduceLogSum: {
    floatOnly: true,
    ref: (row) => Math.log(sum(row, false)),
    wgsl: foldWgsl({ init: zero, combine: add, final: (a) => `log(${a})` }),
    cpu: fold('sum', 'log'),
  },
  ReduceLogSumExp: {
    floatOnly: true,
    ref: (row) => {
      const m = row.reduce((a, x) => Math.max(a, x), -Infinity);
      if (!Number.isFinite(m)) return m;
      return m + Math.log(sum(row, false, (x) => Math.exp(x - m)));
    },
    // The CPU takes two passes (the max, then Σ exp(x − max)): vector exp makes the second cheap.
    cpu: fold('expSum', 'logSumExp'),
    // Online log-sum-exp: the state is (running max m, Σ exp(x − m)), rescaled when m grows, so no
    // exp ever overflows and one pass suffices.
    // A NaN element's state (NaN, 1) absorbs every other, so the result is NaN as in the reference.
    wgsl: () => `${INF}${NAN_FNS}alias Acc = vec2<f32>;
alias O = f32;
fn acc_init() -> Acc { return vec2<f32>(-f32_inf(), 0.0); }
fn acc_merge(a: Acc, b: Acc) -> Acc {
  if (b.y == 0.0) { return a; }
  if (a.y == 0.0) { return b; }
  // On the bits: WGSL's max need not keep a NaN, nor exp(NaN) be NaN.
  if (is_nan(a.x)) { return a; }
  if (is_nan(b.x)) { return b; }
  let m = max(a.x, b.x);
  return vec2<f32>(m, a.y * exp(a.x - m) + b.y * exp(b.x - m));
}
fn acc_step(a: Acc, x: T, r: u32) -> Acc { return acc_merge(a, vec2<f32>(x, 1.0)); }
fn acc_final(a: Acc, n: u32) -> O { return a.x + log(a.y); }
`,
  },
};

/**
 * ArgMax / ArgMin: the state is (best value, its index; −1 before any element). Merging compares
 * values and breaks ties on the index explicitly, so the result does not depend on the order in
 * which lanes fold and merge. On f32 a NaN follows the reference's walk, where every comparison
 * with it is false: as element 0 it wins, anywhere else it is passed over.
 */
export function argReducer(kind: 'max' | 'min', selectLast: boolean): Reducer {
  const better = kind === 'max' ? '>' : '<';
  const pick = selectLast ? 'max' : 'min';
  return {
    index: true,
    cpu: { fn: 'reduce_arg', op: kind === 'max' ? 1 : 0, op2: selectLast ? 1 : 0 },
    ref: (row) => {
      let best = 0;
      row.forEach((x, i) => {
        const b = row[best]!;
        if (kind === 'max' ? x > b : x < b) best = i;
        else if (x === b && selectLast) best = i;
      });
      return best;
    },
    wgsl: (T) => `${T === 'f32' ? NAN_FNS : ''}struct Acc { v: ${T}, i: i32 }
alias O = i32;
fn acc_init() -> Acc { return Acc(${T}(0), -1); }
fn acc_merge(a: Acc, b: Acc) -> Acc {
  if (a.i < 0) { return b; }
  if (b.i < 0) { return a; }${T === 'f32' ? `
  // NaN wins as element 0 and is passed over elsewhere; tested on the bits, WGSL may assume it absent.
  if (is_nan(a.v)) { if (a.i == 0) { return a; } return b; }
  if (is_nan(b.v)) { if (b.i == 0) { return b; } return a; }` : ''}
  if (a.v ${better} b.v) { return a; }
  if (b.v ${better} a.v) { return b; }
  return Acc(a.v, ${pick}(a.i, b.i));
}
fn acc_step(a: Acc, x: T, r: u32) -> Acc { return acc_merge(a, Acc(x, i32(r))); }
fn acc_final(a: Acc, n: u32) -> O { return max(a.i, 0); }
`,
  };
}
