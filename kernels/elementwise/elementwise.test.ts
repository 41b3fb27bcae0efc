import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Attrs } from '../../core/ir/graph.js';
import { tensor, type DType, type Tensor } from '../../core/tensor.js';
import { checkOp, expectClose, randomTensor, runOp, type RunOpOptions } from '../testing/harness.js';
import { coalesce, CPU_OPS } from './cpu-kernel.js';

const dimsArb = (maxRank: number) => fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 0, maxLength: maxRank });

/** Two shapes that broadcast: the second drops leading axes and sets some axes to 1. */
const broadcastPair = dimsArb(4).chain((out) =>
  fc.tuple(fc.constant(out), fc.integer({ min: 0, max: out.length }), fc.array(fc.boolean(), { minLength: out.length, maxLength: out.length })).map(
    ([o, drop, ones]) => [o, o.slice(drop).map((d, i) => (ones[i + drop] ? 1 : d))] as const,
  ),
);

const RUNS = { numRuns: 12 };

describe('elementwise kernels match the reference on WebGPU', () => {
  const unary = ['Relu', 'Sigmoid', 'Tanh', 'Erf', 'Gelu', 'Exp', 'Abs', 'Neg', 'HardSwish', 'HardSigmoid', 'LeakyRelu', 'Floor', 'Ceil', 'Reciprocal', 'Sign'];
  for (const op of unary) {
    it(`${op} on random shapes`, async () => {
      await fc.assert(fc.asyncProperty(dimsArb(4), fc.nat(), async (dims, seed) => {
        await checkOp(op, [randomTensor('float32', dims, seed, [-6, 6])], op === 'LeakyRelu' ? { alpha: 0.3 } : {});
      }), RUNS);
    });
  }

  for (const op of ['Sqrt', 'Log']) {
    it(`${op} on positive inputs`, async () => {
      await fc.assert(fc.asyncProperty(dimsArb(3), fc.nat(), async (dims, seed) => {
        await checkOp(op, [randomTensor('float32', dims, seed, [0.01, 50])]);
      }), RUNS);
    });
  }

  for (const op of ['Add', 'Sub', 'Mul', 'Div', 'Max', 'Min', 'Pow']) {
    it(`${op} broadcasts like numpy`, async () => {
      await fc.assert(fc.asyncProperty(broadcastPair, fc.boolean(), fc.nat(), async ([a, b], swap, seed) => {
        const lo = op === 'Pow' ? 0.1 : op === 'Div' ? 0.5 : -3;
        const x = randomTensor('float32', a, seed, [lo, 3]);
        const y = randomTensor('float32', b, seed + 1, [lo, 3]);
        await checkOp(op, swap ? [y, x] : [x, y], {}, { rtol: 1e-5 });
      }), RUNS);
    });
  }

  it('Pow with integral exponents keeps the sign of negative bases', async () => {
    await checkOp('Pow', [tensor('float32', [4], [-2, -3, 2, 0.5]), tensor('float32', [4], [2, 3, 3, 2])]);
  });

  it('integer arithmetic truncates and compares exactly', async () => {
    await fc.assert(fc.asyncProperty(broadcastPair, fc.nat(), async ([a, b], seed) => {
      const x = randomTensor('int64', a, seed, [-50, 50]);
      const y = randomTensor('int64', b, seed + 7, [1, 9]);
      for (const op of ['Add', 'Sub', 'Mul', 'Div', 'Equal', 'Less', 'Greater', 'GreaterOrEqual']) await checkOp(op, [x, y]);
    }), { numRuns: 6 });
  });

  it('Where selects with a broadcast bool condition; Not and And work on bools', async () => {
    await fc.assert(fc.asyncProperty(broadcastPair, fc.nat(), async ([a, b], seed) => {
      const c = randomTensor('bool', b, seed);
      await checkOp('Where', [c, randomTensor('float32', a, seed + 1), randomTensor('float32', b, seed + 2)]);
      await checkOp('Not', [c]);
      await checkOp('And', [c, randomTensor('bool', a, seed + 3)]);
    }), RUNS);
  });

  it('variadic Max/Sum over three inputs', async () => {
    await fc.assert(fc.asyncProperty(broadcastPair, fc.nat(), async ([a, b], seed) => {
      const ins = [randomTensor('float32', a, seed), randomTensor('float32', b, seed + 1), randomTensor('float32', [1], seed + 2)];
      await checkOp('Max', ins);
      await checkOp('Sum', ins);
    }), RUNS);
  });

  it('Clip with bounds as inputs (opset 13), one bound omitted, and as attributes (opset 9)', async () => {
    const x = randomTensor('float32', [3, 5, 7], 1, [-10, 10]);
    await checkOp('Clip', [x, tensor('float32', [], [-1]), tensor('float32', [], [6])], {}, { constInputs: [1, 2] });
    await checkOp('Clip', [x, undefined, tensor('float32', [], [2])], {}, { constInputs: [2] });
    await checkOp('Clip', [x], { min: 0, max: 6 }, { opset: 9 });
  });

  it('Cast between float, int64 and bool', async () => {
    const x = randomTensor('float32', [2, 3, 5], 3, [-4, 4]);
    for (const to of [7, 9, 6]) await checkOp('Cast', [x], { to });
    await checkOp('Cast', [randomTensor('bool', [9], 4)], { to: 1 });
    await checkOp('Cast', [randomTensor('int64', [9], 5, [-9, 9])], { to: 1 });
  });

  it('large tensors split the dispatch over two grid dimensions', async () => {
    const x = randomTensor('float32', [65536 * 4 + 3], 9);
    await checkOp('Relu', [x]);
  });
});

describe('NaN on every backend', () => {
  const { NaN: nan } = Number;
  const f32 = (...v: number[]): Tensor => tensor('float32', [v.length], v);

  it('Max and Min return NaN when any input is NaN', async () => {
    const a = f32(1, nan, nan, -2, 0, Infinity, -Infinity, 3);
    const b = f32(nan, 1, nan, -3, -0, nan, nan, 4);
    for (const op of ['Max', 'Min']) {
      await checkOp(op, [a, b]);
      await checkOp(op, [b, a]);
      await checkOp(op, [a, b, f32(0, 0, 0, nan, 0, 0, 0, 0)]);
      await checkOp(op, [a, tensor('float32', [], [nan])]);
      await checkOp(op, [a]);
    }
  });

  const x = f32(nan, 0.5, -2, nan, 3, -0.25, 1, nan);
  const unary: [string, Attrs?][] = [
    ['Relu'], ['LeakyRelu'], ['Sigmoid'], ['HardSigmoid'], ['HardSwish'], ['Tanh'], ['Erf'], ['Gelu'], ['Gelu', { approximate: 'tanh' }],
    ['Exp'], ['Log'], ['Sqrt'], ['Reciprocal'], ['Floor'], ['Ceil'], ['Abs'], ['Neg'], ['Sign'],
  ];
  for (const [op, attrs] of unary) {
    it(`${op}${attrs ? ` ${JSON.stringify(attrs)}` : ''} keeps NaN`, async () => {
      await checkOp(op, [op === 'Log' || op === 'Sqrt' ? f32(nan, 0.5, 2, nan) : x], attrs);
    });
  }

  it('Clip keeps NaN, from attributes or bound inputs, and gives max when min > max', async () => {
    const x = f32(nan, -Infinity, Infinity, 3, -3, 0.25, nan);
    await checkOp('Clip', [x], { min: -1, max: 1 }, { opset: 9 });
    await checkOp('Clip', [x], { min: -1 }, { opset: 9 });
    await checkOp('Clip', [x], { max: 1 }, { opset: 9 });
    const s = (v: number): Tensor => tensor('float32', [], [v]);
    await checkOp('Clip', [x, s(-1), s(1)], {}, { opset: 13 });
    await checkOp('Clip', [x, s(-1), undefined], {}, { opset: 13 });
    await checkOp('Clip', [x, undefined, s(1)], {}, { opset: 13 });
    await checkOp('Clip', [x, s(1), s(-1)], {}, { opset: 13 });
  });
});

/** CPU kernel against the reference only, for inputs the WGSL twin leaves unspecified (NaN, inf, integer edges) or at tolerances it is not held to. */
async function checkCpu(op: string, inputs: readonly (Tensor | undefined)[], attrs: Attrs = {}, options: RunOpOptions & { atol?: number; rtol?: number } = {}): Promise<void> {
  const [[cpu], [ref]] = await Promise.all([runOp('cpu', op, inputs, attrs, options), runOp('reference', op, inputs, attrs, options)]);
  expectClose(cpu!, ref!, options, `cpu ${op}`);
}

const f32 = (...v: number[]): Tensor => tensor('float32', [v.length], v);
const i32 = (...v: number[]): Tensor => tensor('int64', [v.length], v);
/** Lengths around multiples of the 4-lane vector: empty and partial tails, whole vectors, both. */
const LENGTHS = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17];

describe('elementwise CPU kernel', () => {
  it('has the op codes of the C table', () => {
    const c = readFileSync(new URL('./elementwise.c', import.meta.url), 'utf8');
    const table = Object.fromEntries([...c.matchAll(/^\s*X\((\w+), (\d+), (\d),/gm)].map((m) => [m[1], [Number(m[2]), Number(m[3])]]));
    expect(table).toEqual(CPU_OPS);
  });

  it('coalesces axes into rows read contiguously or broadcast', () => {
    expect(coalesce([2, 3, 4], [[2, 3, 4], [2, 3, 4]])).toEqual({ dims: [24], strides: [[1], [1]] });
    expect(coalesce([2, 3, 4], [[2, 3, 4], []])).toEqual({ dims: [24], strides: [[1], [0]] });
    expect(coalesce([2, 3, 4, 5], [[2, 3, 4, 5], [1, 3, 1, 1]])).toEqual({ dims: [2, 3, 20], strides: [[60, 20, 1], [0, 1, 0]] });
    expect(coalesce([2, 1, 4], [[2, 1, 1], [4]])).toEqual({ dims: [2, 4], strides: [[1, 0], [0, 1]] });
    expect(coalesce([], [[], [1]])).toEqual({ dims: [1], strides: [[0], [0]] });
  });

  it('takes each vector path at lengths around multiples of 4', async () => {
    for (const n of LENGTHS) {
      const x = randomTensor('float32', [3, n], n, [-3, 3]);
      const pairs: [readonly number[], readonly number[]][] = [[[3, n], [3, n]], [[3, n], []], [[], [3, n]], [[3, n], [3, 1]], [[3, 1], [3, n]], [[3, n], [n]], [[n], [3, n]], [[3, 1], [1, n]]];
      for (const [a, b] of pairs) {
        await checkOp('Sub', [randomTensor('float32', a, n + 1), randomTensor('float32', b, n + 2)]);
      }
      await checkOp('Sigmoid', [x]);
      await checkOp('Mul', [randomTensor('int64', [3, n], n, [-99, 99]), randomTensor('int64', [1], n + 1, [-9, 9])]);
    }
  });

  it('walks many short rows, also when accumulating in place', async () => {
    for (const n of [1, 3, 5, 15]) {
      await checkOp('Add', [randomTensor('float32', [97, n], n), randomTensor('float32', [97, 1], n + 1)]);
      await checkOp('Div', [randomTensor('int64', [1, n], n, [-50, 50]), randomTensor('int64', [131, 1], n + 1, [1, 9])]);
      await checkOp('Where', [randomTensor('bool', [70, n], n), randomTensor('float32', [70, 1], n + 1), randomTensor('float32', [n], n + 2)]);
      await checkOp('Sum', [randomTensor('float32', [60, 2, n], n), randomTensor('float32', [60, 1, 1], n + 1), randomTensor('float32', [2, n], n + 2)]);
    }
  });

  it('Where and Clip take every pattern of broadcast operands', async () => {
    for (const n of [3, 4, 9]) {
      for (let mask = 0; mask < 8; mask++) {
        const dims = (k: number): number[] => (mask & (1 << k) ? [2, 1] : [2, n]);
        await checkOp('Where', [randomTensor('bool', dims(0), mask), randomTensor('float32', dims(1), mask + 1), randomTensor('float32', dims(2), mask + 2)]);
      }
      const x = randomTensor('float32', [2, n], n, [-5, 5]);
      // Bounds as run-time inputs.
      await checkOp('Clip', [x, tensor('float32', [], [-1]), tensor('float32', [], [2])]);
      await checkOp('Clip', [x, tensor('float32', [1], [-0.5]), undefined]);
      await checkOp('Clip', [randomTensor('int64', [2, n], n, [-9, 9]), tensor('int64', [], [-2]), tensor('int64', [], [3])]);
      await checkOp('Clip', [randomTensor('int64', [2, n], n, [-9, 9]), undefined, tensor('int64', [], [3])], {}, { constInputs: [2] });
    }
  });

  it('broadcasts both operands across high ranks that do not coalesce', async () => {
    const shapes = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 5, maxLength: 6 }).chain((out) => {
      const someOnes = fc.array(fc.boolean(), { minLength: out.length, maxLength: out.length }).map((ones) => out.map((d, i) => (ones[i] ? 1 : d)));
      return fc.tuple(someOnes, someOnes, someOnes);
    });
    await fc.assert(fc.asyncProperty(shapes, fc.nat(), async ([a, b, c], seed) => {
      await checkOp('Add', [randomTensor('float32', a, seed), randomTensor('float32', b, seed + 1)]);
      await checkOp('Where', [randomTensor('bool', a, seed), randomTensor('float32', b, seed + 1), randomTensor('float32', c, seed + 2)]);
    }), { numRuns: 8 });
  });

  it('variadic ops fold over one to four inputs, floats and integers', async () => {
    for (const dtype of ['float32', 'int64'] as DType[]) {
      const ins = [randomTensor(dtype, [2, 3, 5], 1, [-20, 20]), randomTensor(dtype, [5], 2, [-20, 20]), randomTensor(dtype, [3, 1], 3, [-20, 20]), randomTensor(dtype, [], 4, [-20, 20])];
      // ONNX's Mean (and Sum) are float-only; the WGSL Mean does not type-check on integers.
      for (const op of dtype === 'float32' ? ['Sum', 'Mean', 'Max', 'Min'] : ['Sum', 'Max', 'Min']) {
        for (let k = 1; k <= 4; k++) await checkOp(op, ins.slice(0, k));
      }
    }
  });

  it('zero-size tensors give empty outputs', async () => {
    await checkOp('Add', [tensor('float32', [0, 3], []), tensor('float32', [3], [1, 2, 3])]);
    await checkOp('Relu', [tensor('float32', [4, 0], [])]);
    await checkOp('Where', [tensor('bool', [0], []), tensor('float32', [1], [1]), tensor('float32', [], [2])]);
    await checkOp('Cast', [tensor('float32', [0], [])], { to: 7 });
    await checkOp('Clip', [tensor('float32', [0, 2], []), tensor('float32', [], [0])]);
    await checkOp('Mean', [tensor('float32', [0], []), tensor('float32', [0], [])]);
  });

  it('integer division truncates, x/0 gives x, INT32_MIN/-1 wraps; Pow, Abs, Neg on integer edges', async () => {
    const min = -2147483648;
    await checkCpu('Div', [i32(7, -7, 7, -7, 5, 0, min, min, 9), i32(2, 2, -2, -2, 0, 0, -1, 1, 3)]);
    await checkCpu('Pow', [i32(2, -3, 0, 2, -1, 1, 3, 46341, 7), i32(10, 3, -1, -1, -3, 40, 0, 2, 30)]);
    // ONNX lets base and exponent types differ.
    await checkOp('Pow', [f32(-2, 1.5, 3, 0.5, -1.5), i32(3, 2, -2, 0, 2)]);
    await checkOp('Pow', [i32(-2, 9, 3, 4, 0), f32(3, 0.5, -1, 1.5, 2)]);
    for (const op of ['Abs', 'Neg', 'Sign', 'Relu']) await checkCpu(op, [i32(min, -5, 0, 5, 2147483647)]);
    await checkCpu('Add', [i32(2147483647, min), i32(1, -1)]);
    await checkCpu('Mul', [i32(65536, -65537), i32(65536, 65537)]);
  });

  it('NaN, infinities and extremes behave like the reference', async () => {
    const { NaN: nan } = Number;
    const inf = Infinity;
    const edge = f32(nan, inf, -inf, 0, -0, 1e-40, -1e-40, 3.4e38, -3.4e38, 1, -1, 0.5, -0.5);
    for (const op of ['Relu', 'Abs', 'Neg', 'Sign', 'Floor', 'Ceil', 'Sqrt', 'Reciprocal', 'Exp', 'Log', 'Sigmoid', 'Tanh', 'Erf', 'Gelu', 'HardSigmoid', 'HardSwish', 'LeakyRelu']) {
      await checkCpu(op, [edge]);
    }
    await checkCpu('Gelu', [edge], { approximate: 'tanh' });
    await checkCpu('Exp', [f32(-110, -103, -100, -88, -87.3, 88, 88.7, 88.8, 89, 100)]);
    await checkCpu('Log', [f32(1e-45, 1e-40, 1.1754942e-38, 1e-30, 0.7, 0.70710677, 0.7071068, 1.5, 1e30)]);
    for (const to of [7, 9, 6]) await checkCpu('Cast', [f32(nan, inf, -inf, 3e9, -3e9, -2.7, 2.7, -0, 1e-40)], { to });
    await checkCpu('Cast', [i32(-5, 0, 7)], { to: 9 });
    await checkCpu('Cast', [tensor('bool', [3], [1, 0, 1])], { to: 7 });
    const a = f32(nan, 1, 2, nan, -0, 0, inf);
    const b = f32(1, nan, 2, nan, 0, -0, -inf);
    for (const op of ['Max', 'Min', 'Equal', 'Less', 'LessOrEqual', 'Greater', 'GreaterOrEqual', 'Add', 'Sub', 'Mul', 'Div']) await checkCpu(op, [a, b]);
    await checkCpu('Div', [f32(1, -1, 0, 3), f32(0, 0, 0, -0)]);
    await checkCpu('Pow', [f32(-2, -2, 1, 1, -1, 0, 0, -8, nan, 2, -0), f32(0.5, 3, nan, inf, -inf, -1, 0, 1 / 3, 0, 2, 2)]);
    await checkCpu('Clip', [f32(nan, -inf, inf, 3, -3)], { min: -1, max: 1 }, { opset: 9 });
  });

  it('vector exp, log, tanh, sigmoid, erf and gelu stay within ~1e-6 relative of the double-precision reference', async () => {
    const n = 4099;
    const logUniform = Float32Array.from({ length: n }, (_, i) => Math.exp(-80 + (160 * i) / n));
    const cases: [string, Tensor, Attrs, number][] = [
      ['Exp', randomTensor('float32', [n], 1, [-87, 88]), {}, 3e-7],
      ['Log', tensor('float32', [n], logUniform), {}, 3e-7],
      ['Tanh', randomTensor('float32', [n], 2, [-10, 10]), {}, 3e-7],
      ['Sigmoid', randomTensor('float32', [n], 3, [-30, 30]), {}, 5e-7],
      ['Erf', randomTensor('float32', [n], 4, [-4, 4]), {}, 1e-6],
      // Far in the negative tail Gelu's f32 exponent argument carries a few e-7 of relative error.
      ['Gelu', randomTensor('float32', [n], 5, [-6, 6]), {}, 5e-6],
      ['Gelu', randomTensor('float32', [n], 6, [-6, 6]), { approximate: 'tanh' }, 5e-6],
    ];
    for (const [op, x, attrs, rtol] of cases) await checkCpu(op, [x], attrs, { atol: 1e-30, rtol });
  });

  it('reports dtypes it has no kernel for', async () => {
    await expect(runOp('cpu', 'Sigmoid', [i32(1, 2)])).rejects.toThrow(/no CPU kernel for int64 inputs/);
  });
});
