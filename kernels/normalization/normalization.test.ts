import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ShapeError, UnsupportedOpError } from '../../core/errors.js';
import type { Tensor } from '../../core/tensor.js';
import { checkOp, expectClose, randomTensor, runOp, type RunOpOptions } from '../testing/harness.js';

const RUNS = { numRuns: 20 };

/** Dims of rank 1–4 with odd sizes and an axis in [−rank, rank). */
const dimsAndAxis = fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 4 }).chain((dims) =>
  fc.tuple(fc.constant(dims), fc.integer({ min: -dims.length, max: dims.length - 1 })),
);

describe('Softmax / LogSoftmax', () => {
  for (const op of ['Softmax', 'LogSoftmax']) {
    it(`${op}: random shapes and axes, opset 11 (2-D coercion) and 13 (single axis)`, async () => {
      await fc.assert(fc.asyncProperty(dimsAndAxis, fc.constantFrom(11, 13), fc.boolean(), fc.nat(), async ([dims, axis], opset, defaultAxis, seed) => {
        const x = randomTensor('float32', dims, seed, [-8, 8]);
        // The default axis (1 before opset 13) is only valid from rank 2.
        const useDefault = defaultAxis && (opset >= 13 || dims.length >= 2);
        await checkOp(op, [x], useDefault ? {} : { axis }, { opset });
      }), RUNS);
    });
  }

  it('opset 11 and 13 differ for a non-last axis', async () => {
    const x = randomTensor('float32', [2, 3, 4], 5);
    const [v11] = await runOp('webgpu', 'Softmax', [x], { axis: 1 }, { opset: 11 });
    const [v13] = await runOp('webgpu', 'Softmax', [x], { axis: 1 }, { opset: 13 });
    // Opset 11 normalises over 3·4 elements, opset 13 over the 3 of axis 1.
    const sum = (data: ArrayLike<number>, idx: number[]): number => idx.reduce((s, i) => s + data[i]!, 0);
    expect(sum(v11!.data, Array.from({ length: 12 }, (_, i) => i))).toBeCloseTo(1, 5);
    expect(sum(v13!.data, [0, 4, 8])).toBeCloseTo(1, 5);
  });

  it('long rows (whole workgroup), strided long rows, and large logits (max subtraction)', async () => {
    for (const op of ['Softmax', 'LogSoftmax']) {
      await checkOp(op, [randomTensor('float32', [3, 1500], 1, [-10, 10])], { axis: -1 }, { opset: 13 });
      await checkOp(op, [randomTensor('float32', [2, 1200, 3], 2, [-10, 10])], { axis: 1 }, { opset: 13 });
      await checkOp(op, [randomTensor('float32', [4, 3, 333], 3, [-10, 10])], { axis: 1 }, { opset: 11 });
      await checkOp(op, [randomTensor('float32', [5, 77], 4, [-500, 500])], {}, { opset: 13 });
    }
  });

  it('rejects an out-of-range axis', async () => {
    await expect(runOp('webgpu', 'Softmax', [randomTensor('float32', [2, 3], 1)], { axis: 2 })).rejects.toThrow(ShapeError);
  });
});

describe('LayerNormalization', () => {
  it('random shapes and axes, full or trailing-suffix scale/bias, optional bias, Mean and InvStdDev outputs', async () => {
    await fc.assert(fc.asyncProperty(dimsAndAxis, fc.nat(), fc.boolean(), fc.boolean(), fc.nat(), async ([dims, axis], keep, withBias, stats, seed) => {
      const a = axis < 0 ? axis + dims.length : axis;
      const normalized = dims.slice(a);
      // A trailing suffix of the normalised dims, sometimes with a leading 1.
      const suffix = normalized.slice(keep % normalized.length);
      const pdims = keep % 3 === 0 ? [1, ...suffix] : suffix;
      const x = randomTensor('float32', dims, seed, [-4, 4]);
      const scale = randomTensor('float32', pdims, seed + 1, [0.5, 2]);
      const bias = withBias ? randomTensor('float32', pdims, seed + 2) : undefined;
      await checkOp('LayerNormalization', bias ? [x, scale, bias] : [x, scale], { axis, epsilon: 1e-3 }, { outputs: stats ? 3 : 1, rtol: 2e-4, atol: 2e-4 });
    }), RUNS);
  });

  it('long rows use the whole workgroup; a large mean does not cancel (two-pass variance)', async () => {
    const x = randomTensor('float32', [3, 2000], 1, [999, 1001]);
    await checkOp('LayerNormalization', [x, randomTensor('float32', [2000], 2), randomTensor('float32', [2000], 3)], {}, { outputs: 3, atol: 2e-3, rtol: 1e-3 });
    await checkOp('LayerNormalization', [randomTensor('float32', [2, 30, 40], 4), randomTensor('float32', [30, 40], 5)], { axis: 1 }, { atol: 1e-3 });
  });

  it('rejects scale dims that are not trailing normalised dims', async () => {
    const x = randomTensor('float32', [2, 3, 4], 1);
    await expect(runOp('webgpu', 'LayerNormalization', [x, randomTensor('float32', [3], 2)], { axis: 1 })).rejects.toThrow(/broadcast/);
  });
});

describe('InstanceNormalization', () => {
  it('random [N, C, spatial…] shapes', async () => {
    const shape = fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 5 }), fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 0, maxLength: 2 }));
    await fc.assert(fc.asyncProperty(shape, fc.nat(), async ([n, c, spatial], seed) => {
      const x = randomTensor('float32', [n, c, ...spatial], seed, [-3, 5]);
      await checkOp('InstanceNormalization', [x, randomTensor('float32', [c], seed + 1), randomTensor('float32', [c], seed + 2)], { epsilon: 1e-4 }, { atol: 2e-4, rtol: 2e-4 });
    }), RUNS);
  });

  it('large spatial extents use the whole workgroup', async () => {
    const x = randomTensor('float32', [1, 3, 40, 41], 1);
    await checkOp('InstanceNormalization', [x, randomTensor('float32', [3], 2), randomTensor('float32', [3], 3)], {}, { atol: 1e-3 });
  });
});

describe('BatchNormalization (inference)', () => {
  it('random [N, C, spatial…] shapes with parameters known at load', async () => {
    const shape = fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 6 }), fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 0, maxLength: 2 }));
    await fc.assert(fc.asyncProperty(shape, fc.nat(), async ([n, c, spatial], seed) => {
      const x = randomTensor('float32', [n, c, ...spatial], seed, [-3, 3]);
      const params = [randomTensor('float32', [c], seed + 1), randomTensor('float32', [c], seed + 2), randomTensor('float32', [c], seed + 3), randomTensor('float32', [c], seed + 4, [0.1, 2])];
      await checkOp('BatchNormalization', [x, ...params], { epsilon: 1e-3 }, { constInputs: [1, 2, 3, 4], opset: seed % 2 ? 9 : 15 });
    }), RUNS);
  });

  it('rejects training mode with a clear error', async () => {
    const c = [randomTensor('float32', [2], 1), randomTensor('float32', [2], 2), randomTensor('float32', [2], 3), randomTensor('float32', [2], 4, [0.1, 1])];
    await expect(runOp('webgpu', 'BatchNormalization', [randomTensor('float32', [1, 2, 3], 0), ...c], { training_mode: 1 }, { constInputs: [1, 2, 3, 4], opset: 15 }))
      .rejects.toThrow(UnsupportedOpError);
  });
});

describe('CPU kernel paths', () => {
  it('Softmax over a strided axis: chunks of neighbouring rows, leftover rows; masked (−inf) logits', async () => {
    for (const op of ['Softmax', 'LogSoftmax']) {
      await checkOp(op, [randomTensor('float32', [3, 9, 7], 1, [-10, 10])], { axis: 1 }, { opset: 13 });
      await checkOp(op, [randomTensor('float32', [2, 37, 12], 2, [-10, 10])], { axis: 1 }, { opset: 13 });
      // Wider than one column chunk (256): two chunks, then leftover columns.
      await checkOp(op, [randomTensor('float32', [2, 5, 263], 8, [-10, 10])], { axis: 1 }, { opset: 13 });
      const masked = randomTensor('float32', [4, 37], 3, [-10, 10]);
      for (let i = 0; i < masked.data.length; i += 3) (masked.data as Float32Array)[i] = -Infinity;
      await checkOp(op, [masked], { axis: -1 }, { opset: 13 });
      await checkOp(op, [masked], { axis: 0 }, { opset: 13 });
    }
  });

  it('Softmax: a NaN makes its row NaN, as in the reference (short rows and a long row folded by many lanes)', async () => {
    const x = randomTensor('float32', [3, 10], 4);
    (x.data as Float32Array)[13] = NaN;
    const long = randomTensor('float32', [2, 1500], 5);
    (long.data as Float32Array)[1500 + 777] = NaN;
    for (const op of ['Softmax', 'LogSoftmax']) {
      for (const axis of [0, 1]) await checkOp(op, [x], { axis }, { opset: 13 });
      await checkOp(op, [long], { axis: 1 }, { opset: 13 });
    }
  });

  it('LayerNormalization: scale and bias broadcast differently (chunks of the smaller block), odd row lengths', async () => {
    const cases: [number[], number[], number[]][] = [
      [[3, 5, 6], [5, 6], [1]],
      [[3, 5, 6], [1], [5, 6]],
      [[3, 5, 6], [6], [5, 6]],
      [[3, 5, 6], [5, 6], [6]],
      [[2, 3, 7], [1, 7], [1, 1]],
      [[2, 3, 7], [7], [3, 7]],
    ];
    for (const [dims, sdims, bdims] of cases) {
      const x = randomTensor('float32', dims, 5, [-4, 4]);
      const scale = randomTensor('float32', sdims, 6, [0.5, 2]);
      const bias = randomTensor('float32', bdims, 7);
      await checkOp('LayerNormalization', [x, scale, bias], { axis: 1 }, { outputs: 3, atol: 2e-4, rtol: 2e-4 });
    }
  });

  it('wider random shapes (up to 40 per dim): every op, CPU against the reference', async () => {
    const dims = fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 4 }).filter((d) => d.reduce((a, b) => a * b, 1) < 60000);
    await fc.assert(fc.asyncProperty(dims, fc.nat(), async (d, seed) => {
      const check = async (op: string, inputs: Tensor[], attrs: Record<string, number>, options: RunOpOptions = {}): Promise<void> => {
        const [cpu, ref] = await Promise.all([runOp('cpu', op, inputs, attrs, options), runOp('reference', op, inputs, attrs, options)]);
        ref.forEach((r, i) => expectClose(cpu[i]!, r, { atol: 2e-4, rtol: 2e-4 }));
      };
      const axis = seed % d.length;
      const x = randomTensor('float32', d, seed, [-8, 8]);
      await check('Softmax', [x], { axis }, { opset: 13 });
      await check('LogSoftmax', [x], { axis }, { opset: 13 });
      await check('Softmax', [x], { axis }, { opset: 11 });
      // Scale and bias: independent trailing blocks of the normalised dims.
      const normalized = d.slice(axis);
      const scale = randomTensor('float32', normalized.slice((seed >> 3) % (normalized.length + 1)), seed + 1);
      const bias = randomTensor('float32', normalized.slice((seed >> 5) % (normalized.length + 1)), seed + 2);
      await check('LayerNormalization', [x, scale, bias], { axis }, { outputs: 3 });
      if (d.length >= 2) {
        const c = d[1]!;
        await check('InstanceNormalization', [x, randomTensor('float32', [c], seed + 1), randomTensor('float32', [c], seed + 2)], {});
        const params = [1, 2, 3, 4].map((s) => randomTensor('float32', [c], seed + s, [0.1, 2]));
        await check('BatchNormalization', [x, ...params], {}, { constInputs: [1, 2, 3, 4] });
      }
    }), { numRuns: 60 });
  });

  it('zero-size inputs', async () => {
    const p = (c: number, seed: number) => randomTensor('float32', [c], seed, [0.1, 1]);
    await checkOp('Softmax', [randomTensor('float32', [0, 3], 1)], { axis: 1 }, { opset: 13 });
    await checkOp('LayerNormalization', [randomTensor('float32', [2, 0], 1), randomTensor('float32', [0], 2)], { axis: 1 }, { outputs: 3 });
    await checkOp('InstanceNormalization', [randomTensor('float32', [0, 3, 4], 1), p(3, 2), p(3, 3)]);
    await checkOp('BatchNormalization', [randomTensor('float32', [0, 2, 3], 1), p(2, 2), p(2, 3), p(2, 4), p(2, 5)], {}, { constInputs: [1, 2, 3, 4] });
  });

  it('BatchNormalization without spatial dims runs along the channels', async () => {
    const c = 11;
    const params = [1, 2, 3, 4].map((s) => randomTensor('float32', [c], s, [0.1, 2]));
    await checkOp('BatchNormalization', [randomTensor('float32', [3, c], 9), ...params], {}, { constInputs: [1, 2, 3, 4] });
    await checkOp('BatchNormalization', [randomTensor('float32', [2, c, 7], 9), ...params], {}, { constInputs: [1, 2, 3, 4] });
  });
});
