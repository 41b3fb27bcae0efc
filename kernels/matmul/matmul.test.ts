import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Attrs } from '../../core/ir/graph.js';
import { tensor } from '../../core/tensor.js';
import { planModel } from '../../core/runtime/plan.js';
import { checkOp, expectClose, randomTensor, runOp } from '../testing/harness.js';
import { chainModel, checkChain, runModel } from './test-models.js';

const dim = fc.integer({ min: 1, max: 37 });
const TOL = { atol: 1e-4, rtol: 1e-4 };

describe('MatMul matches the reference on WebGPU', () => {
  it('2-D on odd sizes, B constant or not', async () => {
    await fc.assert(fc.asyncProperty(dim, dim, dim, fc.boolean(), fc.nat(), async (m, k, n, constB, seed) => {
      await checkOp('MatMul', [randomTensor('float32', [m, k], seed), randomTensor('float32', [k, n], seed + 1)], {}, { ...TOL, constInputs: constB ? [1] : [] });
    }), { numRuns: 10 });
  });

  it('1-D promotion on either side and batch broadcasting', async () => {
    const batch = fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 3 });
    await fc.assert(fc.asyncProperty(batch, fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }), fc.integer({ min: 0, max: 2 }), dim, dim, dim, fc.nat(),
      async (bd, ones, vec, m, k, n, seed) => {
        const bBatch = bd.map((d, i) => (ones[i] ? 1 : d)).slice(bd.length > 0 ? 1 : 0);
        const a = vec === 1 ? [k] : [...bd, m, k];
        const b = vec === 2 ? [k] : [...bBatch, k, n];
        await checkOp('MatMul', [randomTensor('float32', a, seed), randomTensor('float32', b, seed + 1)], {}, TOL);
      }), { numRuns: 8 });
  });

  it('medium: [2, 130, 300] × [300, 190]', async () => {
    await checkOp('MatMul', [randomTensor('float32', [2, 130, 300], 1), randomTensor('float32', [300, 190], 2)], {}, { atol: 1e-3, rtol: 1e-3, constInputs: [1] });
  });

  it('rejects mismatched inner dims with a ShapeError', async () => {
    await expect(runOp('reference', 'MatMul', [randomTensor('float32', [2, 3], 1), randomTensor('float32', [4, 2], 2)])).rejects.toThrow(/inner dims differ/);
  });

  it('fuses a following activation', async () => {
    for (const act of ['Relu', 'Sigmoid', 'Tanh', 'HardSwish']) {
      await checkChain(randomTensor('float32', [5, 9], 3, [-3, 3]), [{ opType: 'MatMul', weights: [randomTensor('float32', [9, 7], 4)] }, { opType: act }], TOL);
    }
  });
});

describe('Gemm matches the reference on WebGPU', () => {
  it('transA/transB/alpha/beta with C of every broadcastable shape', async () => {
    const cShape = fc.constantFrom('none', 'mn', 'n', '1n', 'm1', 'scalar');
    await fc.assert(fc.asyncProperty(dim, dim, dim, fc.boolean(), fc.boolean(), cShape, fc.nat(), async (m, k, n, tA, tB, cs, seed) => {
      const a = randomTensor('float32', tA ? [k, m] : [m, k], seed);
      const b = randomTensor('float32', tB ? [n, k] : [k, n], seed + 1);
      const cDims = { none: undefined, mn: [m, n], n: [n], '1n': [1, n], m1: [m, 1], scalar: [] }[cs];
      const c = cDims ? randomTensor('float32', cDims, seed + 2) : undefined;
      await checkOp('Gemm', c ? [a, b, c] : [a, b], { transA: tA ? 1 : 0, transB: tB ? 1 : 0, alpha: 0.5, beta: 1.5 }, { ...TOL, constInputs: [1, 2] });
    }), { numRuns: 12 });
  });

  it('fuses a following activation (Clip, LeakyRelu, Gelu)', async () => {
    const x = randomTensor('float32', [3, 33], 5, [-3, 3]);
    const w = randomTensor('float32', [17, 33], 6);
    const bias = randomTensor('float32', [17], 7);
    const clip = { opType: 'Clip', weights: [tensor('float32', [], [0]), tensor('float32', [], [1])] };
    for (const act of [clip, { opType: 'LeakyRelu', attrs: { alpha: 0.2 } }, { opType: 'Gelu' }]) {
      await checkChain(x, [{ opType: 'Gemm', weights: [w, bias], attrs: { transB: 1 } }, act], TOL);
    }
  });
});

describe('fused activations on NaN, every backend', () => {
  const { NaN: nan } = Number;
  // Gemm by the identity passes A through (a NaN row stays NaN: NaN * 0 is NaN), so the epilogue
  // sees NaN and values on both sides of every activation's bends.
  const k = 11;
  const a = tensor('float32', [3, k], [
    nan, 1, 2, nan, 0, 0, 0, 0, 0, 0, 0,
    -20, -7, -3, -2.5, -1, -0.5, 0, 0.5, 1, 2.5, 3,
    7, 20, -0.25, 0.25, -6, 6, -2, 2, -0, 0.1, -0.1,
  ]);
  const eye = tensor('float32', [k, k], Array.from({ length: k * k }, (_, i) => (i % (k + 1) === 0 ? 1 : 0)));

  it('each fused activation gives what the reference gives (Gemm with _activation)', async () => {
    const acts: Attrs[] = [
      { _activation: 'Relu' }, { _activation: 'LeakyRelu', _alpha: 0.2 }, { _activation: 'Clip', _alpha: -0.5, _beta: 1.5 },
      { _activation: 'Clip', _alpha: 1, _beta: -1 },
      { _activation: 'Sigmoid' }, { _activation: 'HardSigmoid', _alpha: 0.3, _beta: 0.4 }, { _activation: 'HardSwish' },
      { _activation: 'Tanh' }, { _activation: 'Gelu' },
    ];
    for (const act of acts) {
      await checkOp('Gemm', [a, eye], { ...act, _alpha: act._alpha ?? 0, _beta: act._beta ?? 0 }, { ...TOL, constInputs: [1] });
    }
  });

  it('a fused Clip with an infinite bound lets ±inf through (Gemm with an infinite C)', async () => {
    const row = tensor('float32', [1, k], Array.from({ length: k }, (_, i) => i - 5));
    const c = tensor('float32', [1, k], [Infinity, -Infinity, nan, 0, 0, 0, 0, 0, 0, Infinity, -Infinity]);
    for (const [lo, hi] of [[-Infinity, 2], [-1, Infinity], [-Infinity, Infinity]] as const) {
      await checkOp('Gemm', [row, eye, c], { _activation: 'Clip', _alpha: lo, _beta: hi }, { ...TOL, constInputs: [1, 2] });
    }
  });

  it('MatMul followed by Relu and by Clip plans to one node and keeps NaN', async () => {
    const clip = { opType: 'Clip', weights: [tensor('float32', [], [-1]), tensor('float32', [], [1])] };
    for (const act of [{ opType: 'Relu' }, clip]) {
      const steps = [{ opType: 'MatMul', weights: [eye] }, act];
      expect(planModel(chainModel(a, steps)).nodes).toHaveLength(1);
      const ref = await checkChain(a, steps, TOL);
      expect(Array.from(ref.data.slice(0, k)).every(Number.isNaN)).toBe(true);
    }
  });
});

describe('MatMul → Add(constant bias) folds into one node', () => {
  it('bias on either side of the Add, then an activation, matches and plans to one node', async () => {
    const x = randomTensor('float32', [2, 3, 11], 8);
    const w = randomTensor('float32', [11, 13], 9);
    for (const bias of [randomTensor('float32', [13], 10), randomTensor('float32', [1, 1, 13], 11)]) {
      const steps = [{ opType: 'MatMul', weights: [w] }, { opType: 'Add', weights: [bias] }, { opType: 'Relu' }];
      expect(planModel(chainModel(x, steps)).nodes).toHaveLength(1);
      await checkChain(x, steps, TOL);
    }
    const swapped = chainModel(x, [{ opType: 'MatMul', weights: [w] }, { opType: 'Add', weights: [randomTensor('float32', [13], 12)] }]);
    const add = swapped.graph.nodes[1]!;
    const model = { ...swapped, graph: { ...swapped.graph, nodes: [swapped.graph.nodes[0]!, { ...add, inputs: [...add.inputs].reverse() }] } };
    expect(planModel(model).nodes).toHaveLength(1);
    expectClose(await runModel(model, x, 'webgpu'), await runModel(model, x, 'reference'), TOL);
  });

  it('a bias that broadcasts over more than the last axis is left to Add', async () => {
    const x = randomTensor('float32', [3, 5], 13);
    const steps = [{ opType: 'MatMul', weights: [randomTensor('float32', [5, 4], 14)] }, { opType: 'Add', weights: [randomTensor('float32', [3, 4], 15)] }];
    expect(planModel(chainModel(x, steps)).nodes).toHaveLength(2);
    await checkChain(x, steps, TOL);
  });
});
