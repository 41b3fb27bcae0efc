import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkOp } from '../testing/harness.js';
import { data, dimsArb, dtypeArb, expectLoadError, expectOp, floats, ints, loadReport, RUNS } from './test-util.js';

const permArb = (rank: number) => fc.shuffledSubarray([...Array(rank).keys()], { minLength: rank, maxLength: rank });

describe('Transpose', () => {
  it('matches the reference for random perms, dtypes and odd shapes', async () => {
    const arb = dimsArb(5).chain((dims) => fc.tuple(fc.constant(dims), permArb(dims.length), dtypeArb, fc.nat()));
    await fc.assert(fc.asyncProperty(arb, async ([dims, perm, dtype, seed]) => {
      await checkOp('Transpose', [data(dtype, dims, seed)], { perm });
    }), RUNS);
  });

  it('reverses the axes by default', async () => {
    await expectOp('Transpose', [floats([1, 2, 3, 4, 5, 6], [2, 3])], {}, {}, [floats([1, 4, 2, 5, 3, 6], [3, 2])]);
  });

  it('is a view when only size-1 axes move, a dispatch otherwise', async () => {
    expect((await loadReport('Transpose', [floats([1, 2, 3], [1, 3, 1])], { perm: [2, 0, 1] })).dispatchesPerRun).toBe(0);
    expect((await loadReport('Transpose', [floats([1, 2, 3, 4], [2, 2])], { perm: [1, 0] })).dispatchesPerRun).toBe(1);
  });

  it('rejects a perm that is not a permutation', async () => {
    await expectLoadError('Transpose', [floats([1, 2], [1, 2])], { perm: [0, 0] }, {}, /not a permutation/);
  });
});

describe('DepthToSpace and SpaceToDepth', () => {
  const blockArb = fc.tuple(dimsArb(4, 4, 3), fc.integer({ min: 1, max: 3 }), dtypeArb, fc.nat());

  it('move blocks between channels and space (DCR, CRD), on random shapes', async () => {
    await fc.assert(fc.asyncProperty(blockArb, fc.constantFrom('DCR', 'CRD'), async ([[n, c, h, w], b, dtype, seed], mode) => {
      await checkOp('DepthToSpace', [data(dtype, [n!, c! * b * b, h!, w!], seed)], { blocksize: b, mode });
      await checkOp('SpaceToDepth', [data(dtype, [n!, c!, h! * b, w! * b], seed)], { blocksize: b });
    }), { numRuns: 6 });
  });

  it('ONNX examples: DCR and CRD, and SpaceToDepth undoes DCR', async () => {
    const x = floats([...Array(48).keys()], [1, 8, 2, 3]);
    const dcr = floats([
      0, 12, 1, 13, 2, 14, 24, 36, 25, 37, 26, 38, 3, 15, 4, 16, 5, 17, 27, 39, 28, 40, 29, 41,
      6, 18, 7, 19, 8, 20, 30, 42, 31, 43, 32, 44, 9, 21, 10, 22, 11, 23, 33, 45, 34, 46, 35, 47,
    ], [1, 2, 4, 6]);
    const crd = floats([
      0, 6, 1, 7, 2, 8, 12, 18, 13, 19, 14, 20, 3, 9, 4, 10, 5, 11, 15, 21, 16, 22, 17, 23,
      24, 30, 25, 31, 26, 32, 36, 42, 37, 43, 38, 44, 27, 33, 28, 34, 29, 35, 39, 45, 40, 46, 41, 47,
    ], [1, 2, 4, 6]);
    await expectOp('DepthToSpace', [x], { blocksize: 2 }, {}, [dcr]);
    await expectOp('DepthToSpace', [x], { blocksize: 2, mode: 'CRD' }, {}, [crd]);
    await expectOp('SpaceToDepth', [dcr], { blocksize: 2 }, {}, [x]);
    await expectLoadError('SpaceToDepth', [floats([1, 2, 3], [1, 1, 1, 3])], { blocksize: 2 }, {}, /does not divide/);
  });
});

/** Random Slice arguments over a random subset of axes, with out-of-range and negative values. */
const sliceArb = dimsArb(4, 1).chain((dims) =>
  fc.tuple(
    fc.constant(dims),
    fc.shuffledSubarray([...dims.keys()], { minLength: 1 }),
    fc.array(fc.tuple(fc.integer({ min: -9, max: 9 }), fc.integer({ min: -9, max: 9 }), fc.integer({ min: -3, max: 3 }).filter((s) => s !== 0), fc.boolean()), { minLength: 4, maxLength: 4 }),
    dtypeArb,
    fc.nat(),
  ),
);

describe('Slice', () => {
  it('opset 13 inputs: negative and out-of-range starts/ends, negative steps, negative axes', async () => {
    await fc.assert(fc.asyncProperty(sliceArb, async ([dims, axes, args, dtype, seed]) => {
      const starts = axes.map((_, i) => args[i]![0]);
      const ends = axes.map((_, i) => args[i]![1]);
      const steps = axes.map((_, i) => args[i]![2]);
      const ax = axes.map((a, i) => (args[i]![3] ? a - dims.length : a));
      await checkOp('Slice', [data(dtype, dims, seed), ints(starts), ints(ends), ints(ax), ints(steps)], {}, { constInputs: [1, 2, 3, 4] });
    }), { numRuns: 16 });
  });

  it('opset 9 attributes', async () => {
    await fc.assert(fc.asyncProperty(sliceArb, async ([dims, axes, args, dtype, seed]) => {
      const attrs = { starts: axes.map((_, i) => args[i]![0]), ends: axes.map((_, i) => args[i]![1]), axes };
      await checkOp('Slice', [data(dtype, dims, seed)], attrs, { opset: 9 });
    }), { numRuns: 6 });
  });

  const x = floats([1, 2, 3, 4, 5, 6, 7, 8], [2, 4]);
  it('ONNX examples: steps, default axes, INT64_MAX ends, negative steps, empty results', async () => {
    const c = { constInputs: [1, 2, 3, 4] };
    await expectOp('Slice', [x, ints([1, 0]), ints([2, 3]), ints([0, 1]), ints([1, 2])], {}, c, [floats([5, 7], [1, 2])]);
    await expectOp('Slice', [x, ints([0, 1]), ints([-1, 1000])], {}, c, [floats([2, 3, 4], [1, 3])]);
    await expectOp('Slice', [x, ints([1]), ints([2 ** 31 - 1]), ints([1])], {}, c, [floats([2, 3, 4, 6, 7, 8], [2, 3])]);
    await expectOp('Slice', [x, ints([-1]), ints([-(2 ** 31)]), ints([1]), ints([-2])], {}, c, [floats([4, 2, 8, 6], [2, 2])]);
    await expectOp('Slice', [x, ints([3]), ints([1]), ints([1])], {}, c, [floats([], [2, 0])]);
  });
});

describe('Expand', () => {
  /** Output dims, an input that broadcasts to them, and a shape input that may hold 1s where the input does not. */
  const expandArb = dimsArb(4).chain((out) =>
    fc.tuple(fc.constant(out), fc.integer({ min: 0, max: out.length }), fc.array(fc.integer({ min: 0, max: 2 }), { minLength: out.length, maxLength: out.length }), dtypeArb, fc.nat()),
  );

  it('broadcasts both ways, like numpy', async () => {
    await fc.assert(fc.asyncProperty(expandArb, async ([out, drop, pick, dtype, seed]) => {
      const inDims = out.slice(drop).map((d, i) => (pick[i + drop] === 1 ? 1 : d));
      const shape = out.map((d, i) => (pick[i] === 2 && (i < drop || inDims[i - drop] !== 1) ? 1 : d));
      await checkOp('Expand', [data(dtype, inDims, seed), ints(shape)], {}, { constInputs: [1] });
    }), RUNS);
  });

  it('to its own shape is a view', async () => {
    expect((await loadReport('Expand', [floats([1, 2], [2]), ints([2])], {}, { constInputs: [1] })).dispatchesPerRun).toBe(0);
  });
});

describe('Tile', () => {
  it('repeats every axis, including zero times', async () => {
    const arb = dimsArb(4, 0, 4).chain((dims) =>
      fc.tuple(fc.constant(dims), fc.array(fc.integer({ min: 0, max: 3 }), { minLength: dims.length, maxLength: dims.length }), dtypeArb, fc.nat()));
    await fc.assert(fc.asyncProperty(arb, async ([dims, reps, dtype, seed]) => {
      await checkOp('Tile', [data(dtype, dims, seed), ints(reps)], {}, { constInputs: [1] });
    }), RUNS);
  });

  it('ONNX example', async () => {
    await expectOp('Tile', [floats([0, 1, 2, 3], [2, 2]), ints([2, 2])], {}, { constInputs: [1] }, [floats([0, 1, 0, 1, 2, 3, 2, 3, 0, 1, 0, 1, 2, 3, 2, 3], [4, 4])]);
  });
});

describe('Pad', () => {
  /** Pads from -1 (crop) to 3, never cropping an axis below zero. */
  const padArb = dimsArb(4, 1, 5).chain((dims) =>
    fc.tuple(
      fc.constant(dims),
      fc.array(fc.integer({ min: -1, max: 3 }), { minLength: 2 * dims.length, maxLength: 2 * dims.length }),
      fc.constantFrom('constant', 'reflect', 'edge', 'wrap'),
      dtypeArb,
      fc.nat(),
    ).map(([d, pads, mode, dtype, seed]) => {
      const r = d.length;
      // Reflect and wrap pads stay below the axis length (what onnxruntime accepts); crops keep one element.
      const p = pads.map((v, i) => Math.max(mode === 'reflect' || mode === 'wrap' ? Math.min(v, d[i % r]! - 1) : v, d[i % r] === 1 ? 0 : -1));
      return [d, p, mode, dtype, seed] as const;
    }),
  );

  it('opset 19 inputs, every mode, on random shapes', async () => {
    await fc.assert(fc.asyncProperty(padArb, fc.integer({ min: -5, max: 5 }), async ([dims, pads, mode, dtype, seed], value) => {
      const cv = { dtype, dims: [], data: data(dtype, [1], value).data } as const;
      await checkOp('Pad', [data(dtype, dims, seed), ints(pads), cv], { mode }, { opset: 19, constInputs: [1, 2] });
    }), { numRuns: 16 });
  });

  it('opset 9 attributes and opset 11 with constant_value omitted', async () => {
    await fc.assert(fc.asyncProperty(padArb.filter(([, , mode]) => mode !== 'wrap'), async ([dims, pads, mode, dtype, seed]) => {
      await checkOp('Pad', [data(dtype, dims, seed)], { mode, pads, value: 1.5 }, { opset: 9 });
      await checkOp('Pad', [data(dtype, dims, seed), ints(pads)], { mode }, { opset: 11, constInputs: [1] });
    }), { numRuns: 6 });
  });

  it('opset 18 axes input (negative axes)', async () => {
    const x = data('float32', [2, 3, 4], 1);
    await checkOp('Pad', [x, ints([1, 2, 0, 3]), floats([7], []), ints([-1, 0])], { mode: 'constant' }, { opset: 18, constInputs: [1, 2, 3] });
    await checkOp('Pad', [x, ints([2, 1]), undefined, ints([2])], { mode: 'reflect' }, { opset: 18, constInputs: [1, 3] });
  });

  it('ONNX examples: constant, reflect, edge', async () => {
    const x = floats([1, 1.2, 2.3, 3.4, 4.5, 5.7], [3, 2]);
    const c = { opset: 13, constInputs: [1, 2] };
    await expectOp('Pad', [x, ints([0, 2, 0, 0])], { mode: 'constant' }, c, [floats([0, 0, 1, 1.2, 0, 0, 2.3, 3.4, 0, 0, 4.5, 5.7], [3, 4])]);
    await expectOp('Pad', [x, ints([0, 2, 0, 0])], { mode: 'reflect' }, c, [floats([1, 1.2, 1, 1.2, 2.3, 3.4, 2.3, 3.4, 4.5, 5.7, 4.5, 5.7], [3, 4])]);
    await expectOp('Pad', [x, ints([0, 2, 0, 0])], { mode: 'edge' }, c, [floats([1, 1, 1, 1.2, 2.3, 2.3, 2.3, 3.4, 4.5, 4.5, 4.5, 5.7], [3, 4])]);
    await expectOp('Pad', [x, ints([1, 0, 0, 0]), floats([9], [])], { mode: 'constant' }, c, [floats([9, 9, 1, 1.2, 2.3, 3.4, 4.5, 5.7], [4, 2])]);
  });

  it('constant-pads an empty input into a full output', async () => {
    await expectOp('Pad', [floats([], [0, 2]), ints([1, 0, 1, 0]), floats([4], [])], {}, { opset: 13, constInputs: [1, 2] }, [floats([4, 4, 4, 4], [2, 2])]);
  });

  it('rejects wrong pad counts and edge padding of an empty axis', async () => {
    await expectLoadError('Pad', [floats([1, 2], [2]), ints([1])], {}, { opset: 13, constInputs: [1] }, /2 × 1/);
    await expectLoadError('Pad', [floats([], [0]), ints([1, 1])], { mode: 'edge' }, { opset: 13, constInputs: [1] }, /empty axis/);
  });
});
