import fc from 'fast-check';
import { describe, it } from 'vitest';
import { tensor } from '../../core/tensor.js';
import { checkOp, randomTensor } from '../testing/harness.js';

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
