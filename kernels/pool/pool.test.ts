import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UnsupportedOpError } from '../../core/errors.js';
import { windowAttrs, windowGeometry } from '../shared/pool-geometry.js';
import { checkOp, expectClose, randomTensor, runOp } from '../testing/harness.js';

const RUNS = { numRuns: 25 };

/** One spatial axis: a window (kernel, stride, dilation, pads < kernel) and an input that fits it. */
const axisArb = fc.record({
  kernel: fc.integer({ min: 1, max: 3 }),
  stride: fc.integer({ min: 1, max: 3 }),
  dilation: fc.integer({ min: 1, max: 2 }),
  padFrac: fc.tuple(fc.nat(), fc.nat()),
  extra: fc.integer({ min: 0, max: 6 }),
});

/** [N, C, spatial…] with 1–3 spatial axes and every pooling attribute. */
const poolCase = fc.record({
  n: fc.integer({ min: 1, max: 2 }),
  c: fc.integer({ min: 1, max: 3 }),
  axes: fc.array(axisArb, { minLength: 1, maxLength: 3 }),
  autoPad: fc.constantFrom('NOTSET', 'NOTSET', 'VALID', 'SAME_UPPER', 'SAME_LOWER'),
  ceil: fc.boolean(),
  includePad: fc.boolean(),
  seed: fc.nat(),
}).map(({ n, c, axes, autoPad, ceil, includePad, seed }) => {
  const spatial = axes.map((a) => (a.kernel - 1) * a.dilation + 1 + a.extra);
  const pads = [...axes.map((a) => a.padFrac[0] % a.kernel), ...axes.map((a) => a.padFrac[1] % a.kernel)];
  const attrs: Record<string, number | string | number[]> = {
    kernel_shape: axes.map((a) => a.kernel),
    strides: axes.map((a) => a.stride),
    dilations: axes.map((a) => a.dilation),
    auto_pad: autoPad,
    ceil_mode: ceil ? 1 : 0,
    count_include_pad: includePad ? 1 : 0,
  };
  if (autoPad === 'NOTSET') attrs.pads = pads;
  return { dims: [n, c, ...spatial], attrs, seed };
});

describe('MaxPool / AveragePool match the reference on WebGPU and the CPU', () => {
  for (const op of ['MaxPool', 'AveragePool']) {
    it(`${op}: 1-D to 3-D, strides, dilations, pads, auto_pad, ceil_mode, count_include_pad`, async () => {
      await fc.assert(fc.asyncProperty(poolCase, async ({ dims, attrs, seed }) => {
        // MaxPool has no count_include_pad. AveragePool takes dilations from opset 19.
        const { count_include_pad: _, ...maxAttrs } = attrs;
        await checkOp(op, [randomTensor('float32', dims, seed, [-5, 5])], op === 'MaxPool' ? maxAttrs : attrs, { opset: 19 });
      }), RUNS);
    });
  }

  it('a 2-D image pool with odd sizes (one invocation per output)', async () => {
    const x = randomTensor('float32', [2, 5, 33, 31], 1);
    await checkOp('MaxPool', [x], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] });
    await checkOp('AveragePool', [x], { kernel_shape: [3, 2], strides: [2, 1], pads: [1, 0, 2, 1], ceil_mode: 1, count_include_pad: 1 }, { opset: 11 });
    await checkOp('AveragePool', [x], { kernel_shape: [2, 2], auto_pad: 'SAME_UPPER' }, { opset: 11 });
  });

  it('rejects the MaxPool Indices output with a clear error', async () => {
    const x = randomTensor('float32', [1, 1, 4, 4], 1);
    await expect(runOp('webgpu', 'MaxPool', [x], { kernel_shape: [2, 2] }, { outputs: 2 })).rejects.toThrow(UnsupportedOpError);
    await expect(runOp('webgpu', 'MaxPool', [x], { kernel_shape: [2, 2] }, { outputs: 2 })).rejects.toThrow(/Indices/);
  });
});

describe('GlobalMaxPool / GlobalAveragePool', () => {
  for (const op of ['GlobalMaxPool', 'GlobalAveragePool']) {
    it(`${op}: random shapes and a large plane`, async () => {
      const shape = fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 6 }), fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 0, maxLength: 3 }));
      await fc.assert(fc.asyncProperty(shape, fc.nat(), async ([n, c, spatial], seed) => {
        await checkOp(op, [randomTensor('float32', [n, c, ...spatial], seed)]);
      }), { numRuns: 10 });
      await checkOp(op, [randomTensor('float32', [1, 4, 56, 57], 3)], {}, { atol: 1e-3 });
    });
  }
});

describe('window geometry', () => {
  const geometry = (size: number, attrs: Record<string, number | string | number[]>) => windowGeometry([size], windowAttrs(attrs, 1));

  it('computes floor and ceil output sizes, dropping a last window that starts in the end padding', () => {
    expect(geometry(5, { kernel_shape: [2], strides: [2] }).out).toEqual([2]);
    expect(geometry(5, { kernel_shape: [2], strides: [2], ceil_mode: 1 }).out).toEqual([3]);
    expect(geometry(4, { kernel_shape: [2], strides: [2], pads: [1, 1], ceil_mode: 1 }).out).toEqual([3]);
    // ⌈(5 + 1 − 2) / 3⌉ + 1 = 3, but the third window would start at 6, past the input: dropped.
    expect(geometry(5, { kernel_shape: [2], strides: [3], pads: [0, 1], ceil_mode: 1 }).out).toEqual([2]);
    expect(geometry(2, { kernel_shape: [1], strides: [2], ceil_mode: 1 }).out).toEqual([1]);
  });

  it('splits SAME padding with the odd element at the end (UPPER) or the beginning (LOWER)', () => {
    expect(geometry(5, { kernel_shape: [4], auto_pad: 'SAME_UPPER' })).toEqual({ out: [5], padsBegin: [1], padsEnd: [2] });
    expect(geometry(5, { kernel_shape: [4], auto_pad: 'SAME_LOWER' })).toEqual({ out: [5], padsBegin: [2], padsEnd: [1] });
    expect(geometry(7, { kernel_shape: [3], strides: [2], dilations: [2], auto_pad: 'VALID' })).toEqual({ out: [2], padsBegin: [0], padsEnd: [0] });
  });
});

describe('CPU kernel paths', () => {
  it('rows wide enough for 4 outputs per vector: strides 1–4, dilations, borders on both sides, 1-D and 3-D', async () => {
    for (const stride of [1, 2, 3, 4]) {
      for (const dilation of [1, 2]) {
        const x1 = randomTensor('float32', [2, 3, 41], stride * 10 + dilation);
        const attrs = { kernel_shape: [3], strides: [stride], dilations: [dilation], pads: [2, 1] };
        await checkOp('MaxPool', [x1], attrs, { opset: 19 });
        await checkOp('AveragePool', [x1], { ...attrs, count_include_pad: stride % 2 }, { opset: 19 });
        await checkOp('AveragePool', [x1], { ...attrs, ceil_mode: 1 }, { opset: 19 });
      }
      const x3 = randomTensor('float32', [1, 2, 4, 5, 23], stride);
      const attrs3 = { kernel_shape: [2, 3, 3], strides: [1, 2, stride], pads: [1, 0, 1, 0, 1, 2] };
      await checkOp('MaxPool', [x3], attrs3);
      await checkOp('AveragePool', [x3], { ...attrs3, count_include_pad: 1 });
    }
  });

  it('wide random windows: every attribute, CPU against the reference', async () => {
    const wide = fc.record({ kernel: fc.integer({ min: 1, max: 4 }), stride: fc.integer({ min: 1, max: 5 }), dilation: fc.integer({ min: 1, max: 3 }), padFrac: fc.tuple(fc.nat(), fc.nat()), extra: fc.integer({ min: 0, max: 40 }) });
    const autoPad = fc.constantFrom('NOTSET', 'VALID', 'SAME_UPPER', 'SAME_LOWER');
    await fc.assert(fc.asyncProperty(fc.array(wide, { minLength: 1, maxLength: 3 }), autoPad, fc.boolean(), fc.boolean(), fc.nat(), async (axes, auto_pad, ceil, includePad, seed) => {
      // Rows up to ~50 wide, so most windows take the vector interior; 3-D volumes kept small.
      const spatial = axes.map((a) => (a.kernel - 1) * a.dilation + 1 + (axes.length === 3 ? a.extra % 9 : a.extra));
      const attrs: Record<string, string | number | number[]> = {
        kernel_shape: axes.map((a) => a.kernel), strides: axes.map((a) => a.stride), dilations: axes.map((a) => a.dilation), auto_pad, ceil_mode: ceil ? 1 : 0,
      };
      if (auto_pad === 'NOTSET') attrs.pads = [...axes.map((a) => a.padFrac[0] % a.kernel), ...axes.map((a) => a.padFrac[1] % a.kernel)];
      const x = randomTensor('float32', [1, 2, ...spatial], seed, [-5, 5]);
      for (const [op, a] of [['MaxPool', attrs], ['AveragePool', { ...attrs, count_include_pad: includePad ? 1 : 0 }]] as const) {
        const [cpu, ref] = await Promise.all([runOp('cpu', op, [x], a, { opset: 19 }), runOp('reference', op, [x], a, { opset: 19 })]);
        expectClose(cpu[0]!, ref[0]!);
      }
    }), { numRuns: 100 });
  });

  it('zero-size batches give empty outputs', async () => {
    await checkOp('MaxPool', [randomTensor('float32', [0, 2, 9], 1)], { kernel_shape: [2] });
    await checkOp('AveragePool', [randomTensor('float32', [2, 0, 9, 9], 1)], { kernel_shape: [2, 2] });
  });

  it('MaxPool and GlobalMaxPool propagate NaN like the reference, first, inside or last in a window', async () => {
    const x = randomTensor('float32', [1, 1, 3, 19], 5);
    (x.data as Float32Array)[19 + 6] = NaN;
    (x.data as Float32Array)[2 * 19 + 18] = NaN;
    for (const kernel_shape of [[2, 2], [1, 3]]) await checkOp('MaxPool', [x], { kernel_shape });
    await checkOp('GlobalMaxPool', [x]);
  });
});
