import type { Attrs } from '../../core/ir/graph.js';
import type { DType } from '../../core/tensor.js';
import type { CpuOpName } from './cpu-kernel.js';
import { activationExpr, activationHelpers, ERF_FN, keepNan, NAN_FNS, type Activation } from '../wgsl.js';

/**
 * The elementwise operators as one table: each entry says how one element is computed, in
 * TypeScript (the reference), in WGSL (spliced into the broadcast kernel) and on the CPU (an op
 * code of elementwise.c), and what dtype comes out. One table keeps the definitions side by side,
 * so they cannot drift apart unnoticed.
 */
export interface ScalarOp {
  /** Number of inputs; 'variadic' for Max/Min/Sum/Mean, which take one or more. */
  readonly arity: number | 'variadic';
  readonly out: (inputs: readonly DType[], attrs: Attrs) => DType;
  /** The reference on JS numbers; integer dtypes get integer semantics. */
  readonly ref: (args: readonly number[], dtype: DType, attrs: Attrs) => number;
  /** WGSL expression over the already-loaded values `a0`, `a1`, … of the inputs' WGSL types. */
  readonly wgsl: (args: readonly string[], types: readonly string[], attrs: Attrs) => string;
  /** WGSL helper functions the expression calls. */
  readonly helpers?: string;
  /** The function form picks by attribute (Gelu) or by the other inputs' dtypes (Pow's exponent). */
  readonly cpu: CpuCodes | ((attrs: Attrs, inputs: readonly DType[]) => CpuCodes);
}

/**
 * The CPU kernel's op code for float inputs and for integer or bool inputs (of the first input;
 * Where's values); a missing one means no CPU kernel for that dtype. Variadic ops fold the binary
 * code over their inputs.
 */
export interface CpuCodes {
  readonly f32?: CpuOpName;
  readonly i32?: CpuOpName;
  /** The f32 parameters the code reads (alpha, beta). */
  readonly params?: (attrs: Attrs) => readonly number[];
}

const same = (inputs: readonly DType[]): DType => inputs[0]!;
const boolean = (): DType => 'bool';
const f32 = (x: number): number => Math.fround(x);
const num = (attrs: Attrs, k: string, d: number): number => (typeof attrs[k] === 'number' ? (attrs[k] as number) : d);

/** erf to double precision well beyond f32 needs (W. J. Cody's rational approximations). */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 0.5) {
    const t = x * x;
    const p = [3.16112374387056560e0, 1.13864154151050156e2, 3.77485237685302021e2, 3.20937758913846947e3, 1.85777706184603153e-1];
    const q = [2.36012909523441209e1, 2.44024637934444173e2, 1.28261652607737228e3, 2.84423683343917062e3];
    const num_ = (((p[4]! * t + p[0]!) * t + p[1]!) * t + p[2]!) * t + p[3]!;
    const den = (((t + q[0]!) * t + q[1]!) * t + q[2]!) * t + q[3]!;
    return (x * num_) / den;
  }
  // For |x| ≥ 0.5, erfc via a continued-fraction-free rational fit (Numerical Recipes erfcc, 1.2e-7).
  const z = ax;
  const t = 1 / (1 + 0.5 * z);
  const r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? 1 - r : r - 1;
}

function cmp(op: string, cpu: 'EQUAL' | 'LESS' | 'LESS_EQUAL' | 'GREATER' | 'GREATER_EQUAL'): ScalarOp {
  const f: Record<string, (a: number, b: number) => boolean> = {
    '==': (a, b) => a === b, '<': (a, b) => a < b, '>': (a, b) => a > b, '>=': (a, b) => a >= b, '<=': (a, b) => a <= b,
  };
  return { arity: 2, out: boolean, ref: ([a, b]) => (f[op]!(a!, b!) ? 1 : 0), wgsl: ([a, b]) => `u32(${a} ${op} ${b})`, cpu: { f32: `${cpu}_F32`, i32: `${cpu}_I32` } };
}

function unaryFloat(
  ref: (x: number, attrs: Attrs) => number,
  wgsl: (x: string, attrs: Attrs) => string,
  cpu: ScalarOp['cpu'],
  helpers?: string,
): ScalarOp {
  return { arity: 1, out: same, ref: ([x], _d, attrs) => f32(ref(x!, attrs)), wgsl: ([x], _t, attrs) => wgsl(x!, attrs), cpu, helpers };
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/**
 * An operator that is also a fused activation takes its WGSL from the matmul/conv epilogue's
 * (activationExpr), NaN handling included, so the standalone and fused forms cannot drift apart.
 */
function activationOp(act: (attrs: Attrs) => Activation, ref: (x: number, attrs: Attrs) => number, cpu: ScalarOp['cpu']): ScalarOp {
  return unaryFloat(ref, (x, attrs) => activationExpr(act(attrs), x), cpu, activationHelpers(act({})));
}

const isInt = (d: DType): boolean => d === 'int32' || d === 'int64';

function arith(op: '+' | '-' | '*' | '/', cpu: 'ADD' | 'SUB' | 'MUL' | 'DIV'): ScalarOp {
  return {
    arity: 2,
    out: same,
    ref: ([a, b], d) => {
      const r = op === '+' ? a! + b! : op === '-' ? a! - b! : op === '*' ? a! * b! : a! / b!;
      if (!isInt(d)) return f32(r);
      // Integer division truncates; division by zero is undefined in ONNX, WGSL gives the dividend.
      if (op === '/') return b === 0 ? a! : Math.trunc(r);
      return op === '*' ? Math.imul(a!, b!) : r | 0;
    },
    wgsl: ([a, b]) => `(${a} ${op} ${b})`,
    cpu: { f32: `${cpu}_F32`, i32: `${cpu}_I32` },
  };
}

function extremum(fn: 'max' | 'min'): ScalarOp {
  return {
    arity: 'variadic',
    out: same,
    ref: (args) => args.reduce((x, y) => (Number.isNaN(x) || Number.isNaN(y) ? NaN : Math[fn](x, y))),
    // WGSL's max/min may drop NaN; on floats max_nan/min_nan return it, as the reference does.
    wgsl: (args, types) => args.reduce((x, y) => (types[0] === 'f32' ? `${fn}_nan(${x}, ${y})` : `${fn}(${x}, ${y})`)),
    helpers: NAN_FNS,
    cpu: fn === 'max' ? { f32: 'MAX_F32', i32: 'MAX_I32' } : { f32: 'MIN_F32', i32: 'MIN_I32' },
  };
}

export const SCALAR_OPS: Readonly<Record<string, ScalarOp>> = {
  Add: arith('+', 'ADD'),
  Sub: arith('-', 'SUB'),
  Mul: arith('*', 'MUL'),
  Div: arith('/', 'DIV'),
  Pow: {
    arity: 2,
    out: same,
    ref: ([a, b], d) => (isInt(d) ? Math.trunc(a! ** b!) : f32(a! ** b!)),
    // WGSL pow is undefined for negative bases; ONNX models use integral exponents (x^2) on them.
    wgsl: ([a, b], [ta, tb]) => {
      const x = ta === 'f32' ? a! : `f32(${a})`;
      const y = tb === 'f32' ? b! : `f32(${b})`;
      const v = `pow_f(${x}, ${y})`;
      return ta === 'f32' ? v : `${ta}(${v})`;
    },
    helpers: `fn pow_f(x: f32, y: f32) -> f32 {
  if (y == 2.0) { return x * x; }
  if (y == 1.0) { return x; }
  if (y == 0.5) { return sqrt(x); }
  let r = pow(abs(x), y);
  let odd = fract(y * 0.5) != 0.0 && fract(y) == 0.0;
  return select(select(r, -r, odd), r, x >= 0.0);
}
`,
    cpu: (_attrs, [, exponent]) => (exponent === 'float32' ? { f32: 'POW_F32', i32: 'POW_I32_F32' } : { f32: 'POW_F32_I32', i32: 'POW_I32' }),
  },
  Max: extremum('max'),
  Min: extremum('min'),
  Sum: { arity: 'variadic', out: same, ref: (args, d) => (isInt(d) ? args.reduce((x, y) => (x + y) | 0) : f32(args.reduce((x, y) => x + y))), wgsl: (args) => `(${args.join(' + ')})`, cpu: { f32: 'ADD_F32', i32: 'ADD_I32' } },
  Mean: { arity: 'variadic', out: same, ref: (args) => f32(args.reduce((x, y) => x + y) / args.length), wgsl: (args) => `((${args.join(' + ')}) / ${args.length}.0)`, cpu: { f32: 'ADD_F32' } },
  Equal: cmp('==', 'EQUAL'),
  Less: cmp('<', 'LESS'),
  LessOrEqual: cmp('<=', 'LESS_EQUAL'),
  Greater: cmp('>', 'GREATER'),
  GreaterOrEqual: cmp('>=', 'GREATER_EQUAL'),
  And: { arity: 2, out: boolean, ref: ([a, b]) => (a && b ? 1 : 0), wgsl: ([a, b]) => `(${a} & ${b})`, cpu: { i32: 'AND' } },
  Or: { arity: 2, out: boolean, ref: ([a, b]) => (a || b ? 1 : 0), wgsl: ([a, b]) => `(${a} | ${b})`, cpu: { i32: 'OR' } },
  Xor: { arity: 2, out: boolean, ref: ([a, b]) => (!!a !== !!b ? 1 : 0), wgsl: ([a, b]) => `(${a} ^ ${b})`, cpu: { i32: 'XOR' } },
  Not: { arity: 1, out: boolean, ref: ([a]) => (a ? 0 : 1), wgsl: ([a]) => `(1u - ${a})`, cpu: { i32: 'NOT' } },
  Where: {
    arity: 3,
    out: (inputs) => inputs[1]!,
    ref: ([c, x, y]) => (c ? x! : y!),
    wgsl: ([c, x, y]) => `select(${y}, ${x}, ${c} != 0u)`,
    cpu: { f32: 'WHERE', i32: 'WHERE' },
  },
  Relu: {
    arity: 1,
    out: same,
    ref: ([x]) => Math.max(x!, 0),
    wgsl: ([x], [t]) => (t === 'f32' ? activationExpr({ kind: 'Relu' }, x!) : `max(${x}, ${t}(0))`),
    helpers: NAN_FNS,
    cpu: { f32: 'RELU_F32', i32: 'RELU_I32' },
  },
  LeakyRelu: activationOp((a) => ({ kind: 'LeakyRelu', alpha: num(a, 'alpha', 0.01) }), (x, a) => (x >= 0 ? x : num(a, 'alpha', 0.01) * x), { f32: 'LEAKY_RELU', params: (a) => [num(a, 'alpha', 0.01)] }),
  Sigmoid: activationOp(() => ({ kind: 'Sigmoid' }), sigmoid, { f32: 'SIGMOID' }),
  HardSigmoid: activationOp(
    (a) => ({ kind: 'HardSigmoid', alpha: num(a, 'alpha', 0.2), beta: num(a, 'beta', 0.5) }),
    (x, a) => Math.max(0, Math.min(1, num(a, 'alpha', 0.2) * x + num(a, 'beta', 0.5))),
    { f32: 'HARD_SIGMOID', params: (a) => [num(a, 'alpha', 0.2), num(a, 'beta', 0.5)] },
  ),
  HardSwish: activationOp(() => ({ kind: 'HardSwish' }), (x) => x * Math.max(0, Math.min(1, x / 6 + 0.5)), { f32: 'HARD_SWISH' }),
  Tanh: activationOp(() => ({ kind: 'Tanh' }), Math.tanh, { f32: 'TANH' }),
  Erf: unaryFloat(erf, (x) => `erf_f(${x})`, { f32: 'ERF' }, ERF_FN),
  Gelu: unaryFloat(
    (x, a) => (a.approximate === 'tanh' ? 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))) : 0.5 * x * (1 + erf(x / Math.SQRT2))),
    (x, a) => (a.approximate === 'tanh'
      ? keepNan(`0.5 * ${x} * (1.0 + tanh(clamp(0.7978845608 * (${x} + 0.044715 * ${x} * ${x} * ${x}), -15.0, 15.0)))`, x)
      : activationExpr({ kind: 'Gelu' }, x)),
    (a) => ({ f32: a.approximate === 'tanh' ? 'GELU_TANH' : 'GELU' }),
    ERF_FN,
  ),
  Sqrt: unaryFloat(Math.sqrt, (x) => `sqrt(${x})`, { f32: 'SQRT' }),
  Exp: unaryFloat(Math.exp, (x) => keepNan(`exp(${x})`, x), { f32: 'EXP' }, NAN_FNS),
  Log: unaryFloat(Math.log, (x) => keepNan(`log(${x})`, x), { f32: 'LOG' }, NAN_FNS),
  Reciprocal: unaryFloat((x) => 1 / x, (x) => `(1.0 / ${x})`, { f32: 'RECIPROCAL' }),
  Floor: unaryFloat(Math.floor, (x) => `floor(${x})`, { f32: 'FLOOR' }),
  Ceil: unaryFloat(Math.ceil, (x) => `ceil(${x})`, { f32: 'CEIL' }),
  Abs: { arity: 1, out: same, ref: ([x]) => Math.abs(x!), wgsl: ([x]) => `abs(${x})`, cpu: { f32: 'ABS_F32', i32: 'ABS_I32' } },
  Neg: { arity: 1, out: same, ref: ([x], d) => (isInt(d) ? -x! | 0 : -x!), wgsl: ([x]) => `(-${x})`, cpu: { f32: 'NEG_F32', i32: 'NEG_I32' } },
  Sign: { arity: 1, out: same, ref: ([x]) => Math.sign(x!), wgsl: ([x], [t]) => (t === 'f32' ? keepNan(`sign(${x})`, x!) : `sign(${x})`), helpers: NAN_FNS, cpu: { f32: 'SIGN_F32', i32: 'SIGN_I32' } },
};
