import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ShapeError } from '../../core/errors.js';
import { tensor, type Tensor } from '../../core/tensor.js';
import { checkOp, expectClose, randomTensor, runOp } from '../testing/harness.js';
import { coalesce } from './reduce-program.js';
import { lanesFor } from '../shared/segment-reduce.js';

const RUNS = { numRuns: 20 };

/** Dims of rank 1–4 with odd sizes, plus a subset of axes (possibly empty, possibly negative). */
const dimsAndAxes = fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 4 }).chain((dims) =>
  fc.tuple(
    fc.constant(dims),
    fc.subarray(dims.map((_, i) => i)).chain((axes) => fc.tuple(fc.constant(axes), fc.array(fc.boolean(), { minLength: axes.length, maxLength: axes.length }))),
  ).map(([d, [axes, neg]]) => ({ dims: d, axes: axes.map((a, i) => (neg[i] ? a - d.length : a)) })),
);

/** Value ranges that keep each reduction finite and well-conditioned in f32. */
const RANGE: Record<string, [number, number]> = {
  ReduceProd: [0.7, 1.4],
  ReduceLogSum: [0.1, 3],
  ReduceLogSumExp: [-40, 40],
};

const axesInt64 = (axes: readonly number[]): Tensor => tensor('int64', [axes.length], axes);

/** The ONNX opset from which each op takes axes as an input instead of an attribute. */
const axesInputFrom = (op: string): number => (op === 'ReduceSum' ? 13 : 18);

/** Runs `op` with axes as attribute (the opset before the switch) or as constant input (from it). */
async function checkReduce(op: string, x: Tensor, axes: readonly number[], attrs: Record<string, number>, asInput: boolean, tol = {}): Promise<void> {
  const from = axesInputFrom(op);
  if (asInput) await checkOp(op, [x, axesInt64(axes)], attrs, { opset: from, constInputs: [1], ...tol });
  else await checkOp(op, [x], axes.length ? { ...attrs, axes } : attrs, { opset: from - 1, ...tol });
}

describe('Reduce* match the reference on WebGPU and the CPU', () => {
  const ops = ['ReduceSum', 'ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceSumSquare', 'ReduceLogSum', 'ReduceLogSumExp'];
  for (const op of ops) {
    it(`${op}: random shapes, axes, keepdims, noop_with_empty_axes, attribute vs input`, async () => {
      await fc.assert(fc.asyncProperty(dimsAndAxes, fc.boolean(), fc.boolean(), fc.boolean(), fc.nat(), async ({ dims, axes }, keepdims, noop, asInput, seed) => {
        const x = randomTensor('float32', dims, seed, RANGE[op] ?? [-3, 3]);
        // noop_with_empty_axes exists only where axes is an input.
        const attrs = { keepdims: keepdims ? 1 : 0, ...(asInput ? { noop_with_empty_axes: noop ? 1 : 0 } : {}) };
        await checkReduce(op, x, axes, attrs, asInput, { rtol: 2e-4 });
      }), RUNS);
    });
  }

  it('long rows use the whole workgroup: last axis, first axis (strided), split axes, everything', async () => {
    const x = randomTensor('float32', [3, 1500], 1);
    const cases: [string, Tensor, number[]][] = [
      ['ReduceSum', x, [1]],
      ['ReduceMean', x, [-1]],
      ['ReduceMax', randomTensor('float32', [1500, 3], 2), [0]],
      ['ReduceL2', randomTensor('float32', [2, 37, 50], 3), [0, 2]],
      ['ReduceLogSumExp', randomTensor('float32', [5, 1031], 4, [-80, 80]), [1]],
      ['ReduceSumSquare', randomTensor('float32', [64, 65], 5), []],
      ['ReduceMin', randomTensor('float32', [4, 9, 130], 6), [1, 2]],
    ];
    for (const [op, t, axes] of cases) await checkReduce(op, t, axes, { keepdims: 0 }, true, { atol: 2e-3 });
  });

  it('integer inputs reduce exactly (Sum, Max, Min, Prod, Mean truncates)', async () => {
    await fc.assert(fc.asyncProperty(dimsAndAxes, fc.nat(), async ({ dims, axes }, seed) => {
      const x = randomTensor('int64', dims, seed, [-9, 9]);
      for (const op of ['ReduceSum', 'ReduceMax', 'ReduceMin', 'ReduceMean', 'ReduceSumSquare']) await checkReduce(op, x, axes, { keepdims: 1 }, false);
      await checkReduce('ReduceProd', randomTensor('int64', dims, seed, [-2, 2]), axes, { keepdims: 0 }, true);
    }), { numRuns: 5 });
  });

  it('rejects out-of-range axes and integer input to float-only reductions', async () => {
    const x = randomTensor('float32', [2, 3], 1);
    await expect(runOp('webgpu', 'ReduceSum', [x, axesInt64([2])], {}, { opset: 13, constInputs: [1] })).rejects.toThrow(ShapeError);
    await expect(runOp('webgpu', 'ReduceL2', [randomTensor('int64', [2, 3], 1)], { axes: [1] }, { opset: 13 })).rejects.toThrow(/float input/);
  });

  it('axes computed at run time are reported as unsupported at load', async () => {
    await expect(runOp('webgpu', 'ReduceMean', [randomTensor('float32', [2, 3], 1), axesInt64([1])], {}, { opset: 18 })).rejects.toThrow(/must be known at load/);
  });
});

describe('ArgMax / ArgMin', () => {
  for (const op of ['ArgMax', 'ArgMin']) {
    it(`${op}: random shapes, negative axis, keepdims, select_last_index, with ties`, async () => {
      await fc.assert(fc.asyncProperty(dimsAndAxes, fc.integer({ min: 0, max: 3 }), fc.boolean(), fc.boolean(), fc.nat(), async ({ dims }, a, keepdims, last, seed) => {
        const axis = (a % dims.length) - (seed % 2 ? dims.length : 0);
        // Few distinct values, so ties are common and the tie rule is exercised.
        const x = randomTensor('int64', dims, seed, [-2, 2]);
        const attrs = { axis, keepdims: keepdims ? 1 : 0, select_last_index: last ? 1 : 0 };
        await checkOp(op, [{ ...x, dtype: 'float32', data: Float32Array.from(x.data) }], attrs);
        await checkOp(op, [x], attrs);
      }), RUNS);
    });
  }

  it('long rows with ties across lanes', async () => {
    const x = randomTensor('int64', [3, 2000], 7, [0, 5]);
    const xf = { ...x, dtype: 'float32' as const, data: Float32Array.from(x.data) };
    for (const select_last_index of [0, 1]) {
      await checkOp('ArgMax', [xf], { axis: 1, select_last_index });
      await checkOp('ArgMin', [xf], { axis: 1, select_last_index, keepdims: 0 });
    }
  });
});

describe('reduction layout', () => {
  it('coalesces size-1 axes and neighbouring axes of the same kind', () => {
    expect(coalesce([2, 3, 4, 5], new Set([2, 3]))).toEqual({ kept: { dims: [6], strides: [20] }, red: { dims: [20], strides: [1] } });
    expect(coalesce([2, 1, 3, 4], new Set([0, 3]))).toEqual({ kept: { dims: [3], strides: [4] }, red: { dims: [2, 4], strides: [12, 1] } });
  });

  it('gives long rows more lanes while few rows leave the device idle, capped at the workgroup', () => {
    expect(lanesFor(1, 1)).toBe(1);
    expect(lanesFor(16, 1)).toBe(1);
    expect(lanesFor(100, 1)).toBe(8);
    expect(lanesFor(100000, 3)).toBe(64);
    expect(lanesFor(1024, 256)).toBe(4);
    expect(lanesFor(64, 4096)).toBe(1);
  });
});

describe('CPU kernel paths', () => {
  const ops = ['ReduceSum', 'ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceSumSquare', 'ReduceLogSum', 'ReduceLogSumExp'];
  const f32 = (dims: number[], data: number[]): Tensor => tensor('float32', dims, Float32Array.from(data));

  /** CPU against the reference only, for the C kernel's paths (the wide random shapes below). */
  async function checkCpu(op: string, inputs: Tensor[], attrs: Record<string, number | number[]>, opset?: number): Promise<void> {
    const [cpu, ref] = await Promise.all([runOp('cpu', op, inputs, attrs, { opset }), runOp('reference', op, inputs, attrs, { opset })]);
    expectClose(cpu[0]!, ref[0]!, { rtol: 2e-4 });
  }

  it('contiguous runs (16, then 4 at a time, then a tail) and columns (chunks of 4-column vectors, then leftovers)', async () => {
    const cases: [number[], number[]][] = [
      [[3, 29], [1]],
      [[2, 3, 37], [0, 2]],
      [[37, 10], [0]],
      [[3, 17, 6], [1]],
      [[5, 4, 3, 7], [0, 2]],
      // Wider than one column chunk (256): two chunks, then leftover columns.
      [[7, 263], [0]],
      [[3, 2, 261], [0, 1]],
    ];
    for (const [dims, axes] of cases) {
      for (const op of ops) await checkReduce(op, randomTensor('float32', dims, dims.length, RANGE[op] ?? [-3, 3]), axes, { keepdims: 0 }, true, { rtol: 2e-4 });
    }
  });

  it('wider random shapes and axes (up to 40 per dim), every reduction, CPU against the reference', async () => {
    const ops = ['ReduceSum', 'ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceSumSquare', 'ReduceLogSum', 'ReduceLogSumExp', 'ArgMax', 'ArgMin'];
    const dims = fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 4 }).filter((d) => d.reduce((a, b) => a * b, 1) < 60000);
    await fc.assert(fc.asyncProperty(dims, fc.constantFrom(...ops), fc.nat(), fc.boolean(), async (d, op, seed, last) => {
      if (op.startsWith('Arg')) {
        const x = randomTensor('int64', d, seed, [-3, 3]);
        const attrs = { axis: seed % d.length, select_last_index: last ? 1 : 0 };
        await checkCpu(op, [x], attrs);
        await checkCpu(op, [{ ...x, dtype: 'float32', data: Float32Array.from(x.data) }], attrs);
        return;
      }
      // The bits of the seed pick the axes (none: all of them).
      const axes = d.map((_, i) => i).filter((i) => (seed >> i) & 1);
      const attrs: Record<string, number | number[]> = axes.length ? { axes, keepdims: 0 } : {};
      await checkCpu(op, [randomTensor('float32', d, seed, RANGE[op] ?? [-3, 3])], attrs, 13);
      if (!['ReduceL2', 'ReduceLogSum', 'ReduceLogSumExp', 'ReduceProd'].includes(op)) await checkCpu(op, [randomTensor('int64', d, seed, [-100, 100])], attrs, 13);
    }), { numRuns: 100 });
  });

  it('zero-size inputs: empty rows give the identity (0, −inf or the lowest int32, NaN for the float mean), empty outputs nothing', async () => {
    for (const op of ['ReduceSum', 'ReduceMean', 'ReduceMax', 'ReduceProd', 'ReduceLogSumExp']) {
      await checkReduce(op, randomTensor('float32', [0, 3], 1), [0], { keepdims: 1 }, true);
      await checkReduce(op, randomTensor('float32', [3, 0], 1), [1], { keepdims: 0 }, true);
      await checkReduce(op, randomTensor('float32', [0, 3], 1), [1], { keepdims: 1 }, true);
    }
    for (const op of ['ReduceSum', 'ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceProd']) await checkReduce(op, randomTensor('int64', [3, 0], 1), [1], { keepdims: 0 }, true);
  });

  it('NaN propagates as in the reference, in rows and in columns, short rows and long rows folded by many lanes', async () => {
    const x = f32([3, 5], [1, NaN, 3, 4, 5, 1, 2, 3, 4, 5, -1, 7, 2, 9, 0]);
    const wide = randomTensor('float32', [6, 9], 3);
    (wide.data as Float32Array)[4 * 9 + 2] = NaN;
    // Long rows: NaN first in row 0, in the middle of row 1 (another lane), none in row 2.
    const long = randomTensor('float32', [3, 2000], 9, [0, 5]);
    (long.data as Float32Array)[0] = NaN;
    (long.data as Float32Array)[2000 + 1037] = NaN;
    for (const op of ['ReduceMax', 'ReduceMin', 'ReduceSum', 'ReduceLogSumExp']) {
      for (const axes of [[0], [1]]) {
        await checkOp(op, [x], { axes }, { opset: 13, rtol: 2e-4 });
        await checkOp(op, [wide], { axes }, { opset: 13, rtol: 2e-4 });
      }
      await checkOp(op, [long], { axes: [1] }, { opset: 13, rtol: 2e-4 });
    }
    // NaN wins only as a row's first element (the comparisons are false), in rows and in columns.
    const first = f32([2, 6], [NaN, 1, 3, 4, 5, 5, 1, NaN, 3, 9, 5, 9]);
    // Integer-valued, so ties are common and select_last_index decides.
    const longTies = f32([3, 2000], Array.from(long.data, (v) => Math.floor(v)));
    for (const op of ['ArgMax', 'ArgMin']) {
      for (const select_last_index of [0, 1]) {
        for (const axis of [0, 1]) await checkOp(op, [first], { axis, select_last_index });
        await checkOp(op, [wide], { axis: 0, select_last_index });
        await checkOp(op, [longTies], { axis: 1, select_last_index });
      }
    }
  });

  it('integer sums and products wrap like int32', async () => {
    const x = randomTensor('int64', [5, 11], 4, [-(2 ** 30), 2 ** 30]);
    for (const op of ['ReduceSum', 'ReduceProd', 'ReduceSumSquare', 'ReduceL1', 'ReduceMean']) {
      await checkReduce(op, x, [1], { keepdims: 0 }, true);
      await checkReduce(op, x, [0], { keepdims: 0 }, true);
    }
  });

  it('ArgMax / ArgMin over a strided axis: column chunks, leftover columns, ties', async () => {
    for (const [dims, axis] of [[[9, 7], 0], [[2, 13, 5], 1], [[3, 2, 11], 1], [[5, 263], 0]] as const) {
      const x = randomTensor('int64', dims, axis + 1, [0, 3]);
      const xf = { ...x, dtype: 'float32' as const, data: Float32Array.from(x.data) };
      for (const select_last_index of [0, 1]) {
        for (const op of ['ArgMax', 'ArgMin']) {
          await checkOp(op, [xf], { axis, select_last_index });
          await checkOp(op, [x], { axis, select_last_index, keepdims: 0 });
        }
      }
    }
  });
});
