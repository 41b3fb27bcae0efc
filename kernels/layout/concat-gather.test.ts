import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { tensor } from '../../core/tensor.js';
import { checkOp, randomTensor, runOp } from '../testing/harness.js';
import { data, dimsArb, dtypeArb, expectLoadError, expectOp, floats, ints, loadReport, RUNS } from './test-util.js';

describe('Concat', () => {
  /** Dims for 1–4 inputs that agree off the axis, some of them empty along it. */
  const concatArb = dimsArb(4, 1).chain((dims) =>
    fc.tuple(
      fc.constant(dims),
      fc.integer({ min: 0, max: dims.length - 1 }),
      fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 4 }),
      fc.boolean(),
      dtypeArb,
      fc.nat(),
    ),
  );

  it('joins any number of inputs (zero-size ones too) along a positive or negative axis', async () => {
    await fc.assert(fc.asyncProperty(concatArb, async ([dims, axis, sizes, negative, dtype, seed]) => {
      const ins = sizes.map((s, i) => data(dtype, dims.map((d, a) => (a === axis ? s : d)), seed + i));
      await checkOp('Concat', ins, { axis: negative ? axis - dims.length : axis });
    }), RUNS);
  });

  it('mixes run-time inputs with constants and skips empty ones', async () => {
    const a = floats([1, 2, 3, 4], [2, 2]);
    const b = floats([], [2, 0]);
    const c = floats([5, 6], [2, 1]);
    await expectOp('Concat', [a, b, c], { axis: 1 }, { constInputs: [2] }, [floats([1, 2, 5, 3, 4, 6], [2, 3])]);
    expect((await loadReport('Concat', [a, b, c], { axis: 1 })).dispatchesPerRun).toBe(2);
  });

  it('rejects inputs that differ off the axis', async () => {
    await expectLoadError('Concat', [floats([1, 2], [1, 2]), floats([1, 2, 3], [1, 3])], { axis: 0 }, {}, /differ off axis 0/);
  });
});

describe('Split', () => {
  const splitArb = dimsArb(3, 1).chain((dims) =>
    fc.tuple(fc.constant(dims), fc.integer({ min: 0, max: dims.length - 1 }), fc.integer({ min: 0, max: 6 }), fc.integer({ min: 1, max: 4 }), dtypeArb, fc.nat()));

  it('explicit sizes as an input (13+) and an attribute (< 13), including empty parts', async () => {
    await fc.assert(fc.asyncProperty(splitArb, fc.array(fc.nat(), { minLength: 3, maxLength: 3 }), async ([dims, axis, len, parts, dtype, seed], cuts) => {
      const d = dims.map((v, a) => (a === axis ? len : v));
      const points = cuts.slice(0, parts - 1).map((c) => c % (len + 1)).sort((p, q) => p - q);
      const sizes = [...points, len].map((p, i) => p - (i ? points[i - 1]! : 0));
      const x = data(dtype, d, seed);
      await checkOp('Split', [x, ints(sizes)], { axis: axis - d.length }, { constInputs: [1], outputs: parts });
      await checkOp('Split', [x], { axis, split: sizes }, { opset: 11, outputs: parts });
    }), { numRuns: 6 });
  });

  it('even split by output count, and num_outputs (18) with a smaller last part', async () => {
    const x = randomTensor('int64', [2, 7, 3], 5, [-50, 50]);
    await checkOp('Split', [x], { axis: 1, num_outputs: 3 }, { opset: 18, outputs: 3 });
    await checkOp('Split', [x], { axis: 2 }, { opset: 13, outputs: 3 });
    const y = floats([1, 2, 3, 4, 5], [5]);
    await expectOp('Split', [y], { num_outputs: 2 }, { opset: 18, outputs: 2 }, [floats([1, 2, 3]), floats([4, 5])]);
    await expectLoadError('Split', [y], {}, { opset: 13, outputs: 2 }, /equal parts/);
  });
});

describe('Gather', () => {
  const gatherArb = dimsArb(3, 1).chain((dims) =>
    fc.tuple(fc.constant(dims), fc.integer({ min: 0, max: dims.length - 1 }), dimsArb(2, 0, 4), fc.boolean(), dtypeArb, fc.constantFrom('int64', 'int32' as const), fc.nat()));

  it('scalar and N-d indices, negative indices, negative axis, int64/bool/float data', async () => {
    await fc.assert(fc.asyncProperty(gatherArb, async ([dims, axis, idxDims, negAxis, dtype, idxType, seed]) => {
      const n = dims[axis]!;
      const indices = randomTensor(idxType, idxDims, seed + 1, [-n, n - 1]);
      await checkOp('Gather', [data(dtype, dims, seed), indices], { axis: negAxis ? axis - dims.length : axis });
    }), RUNS);
  });

  it('indices known at load, and ONNX example', async () => {
    const x = floats([1, 1.2, 2.3, 3.4, 4.5, 5.7], [3, 2]);
    await expectOp('Gather', [x, ints([0, 1, 1, 2], [2, 2])], { axis: 0 }, { constInputs: [1] }, [floats([1, 1.2, 2.3, 3.4, 2.3, 3.4, 4.5, 5.7], [2, 2, 2])]);
    await expectOp('Gather', [x, ints([-1], [])], { axis: 1 }, {}, [floats([1.2, 3.4, 5.7], [3])]);
    await expectOp('Gather', [x, ints([], [0])], { axis: 0 }, {}, [floats([], [0, 2])]);
    await expectOp('Transpose', [floats([], [0, 3])], {}, {}, [floats([], [3, 0])]);
  });

  it('the reference rejects an out-of-range index', async () => {
    await expect(runOp('reference', 'Gather', [floats([1, 2], [2]), ints([2])], {})).rejects.toThrow(/out of range/);
  });
});

describe('GatherElements', () => {
  it('picks along an axis with indices no larger than the data', async () => {
    const arb = dimsArb(4, 1).chain((dims) =>
      fc.tuple(fc.constant(dims), fc.integer({ min: 0, max: dims.length - 1 }), fc.array(fc.integer({ min: 0, max: 5 }), { minLength: dims.length, maxLength: dims.length }), dtypeArb, fc.nat()));
    await fc.assert(fc.asyncProperty(arb, async ([dims, axis, shrink, dtype, seed]) => {
      const idxDims = dims.map((d, a) => (a === axis ? 1 + (shrink[a]! % 4) : Math.max(1, d - (shrink[a]! % d))));
      const indices = randomTensor('int64', idxDims, seed + 3, [-dims[axis]!, dims[axis]! - 1]);
      await checkOp('GatherElements', [data(dtype, dims, seed), indices], { axis });
    }), RUNS);
  });

  it('ONNX example', async () => {
    const x = tensor('int32', [3, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    await expectOp('GatherElements', [x, ints([1, 2, 0, 2, 0, 0], [2, 3])], { axis: 0 }, {}, [tensor('int32', [2, 3], [4, 8, 3, 7, 2, 3])]);
  });
});
