import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { tensor } from '../../core/tensor.js';
import { checkOp, runOp } from '../testing/harness.js';
import { data, dimsArb, expectLoadError, expectOp, floats, ints } from './test-util.js';

const x22 = floats([1, 2, 3, 4], [1, 1, 2, 2]);
const x24 = floats([1, 2, 3, 4, 5, 6, 7, 8], [1, 1, 2, 4]);
const x44 = floats(Array.from({ length: 16 }, (_, i) => i + 1), [1, 1, 4, 4]);
const none = floats([], [0]);
/** Resize 13: X, roi, scales, sizes; roi/scales/sizes baked in at load. */
const R13 = { opset: 13, constInputs: [1, 2, 3] };

describe('Resize: ONNX examples', () => {
  it('nearest, half_pixel + round_prefer_floor (defaults), up and down', async () => {
    await expectOp('Resize', [x22, undefined, floats([1, 1, 2, 3])], { mode: 'nearest' }, R13, [
      floats([1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4], [1, 1, 4, 6]),
    ]);
    await expectOp('Resize', [x24, undefined, floats([1, 1, 0.6, 0.6])], { mode: 'nearest' }, R13, [floats([1, 3], [1, 1, 1, 2])]);
  });

  it('linear: half_pixel and align_corners up, half_pixel down', async () => {
    await expectOp('Resize', [x22, undefined, floats([1, 1, 2, 2])], { mode: 'linear' }, R13, [
      floats([1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4], [1, 1, 4, 4]),
    ]);
    const t = 1 / 3;
    await expectOp('Resize', [x22, undefined, floats([1, 1, 2, 2])], { mode: 'linear', coordinate_transformation_mode: 'align_corners' }, R13, [
      floats([1, 1 + t, 1 + 2 * t, 2, 1 + 2 * t, 2, 2 + t, 2 + 2 * t, 2 + t, 2 + 2 * t, 3, 3 + t, 3, 3 + t, 3 + 2 * t, 4], [1, 1, 4, 4]),
    ]);
    await expectOp('Resize', [x24, undefined, floats([1, 1, 0.6, 0.6])], { mode: 'linear' }, R13, [floats([2.6666665, 4.3333331], [1, 1, 1, 2])]);
  });

  it('sizes (with an empty scales input, as opset 11 exporters write it) and tf_crop_and_resize with extrapolation', async () => {
    await expectOp('Resize', [x22, none, none, ints([1, 1, 3, 1])], { mode: 'nearest' }, { opset: 11, constInputs: [1, 2, 3] }, [floats([1, 1, 3], [1, 1, 3, 1])]);
    const crop = { mode: 'linear', coordinate_transformation_mode: 'tf_crop_and_resize' };
    await expectOp('Resize', [x44, floats([0, 0, 0.4, 0.6, 1, 1, 0.6, 0.8]), undefined, ints([1, 1, 3, 3])], crop, R13, [
      floats([7.6, 7.9, 8.2, 8.8, 9.1, 9.4, 10, 10.3, 10.6], [1, 1, 3, 3]),
    ]);
    await expectOp('Resize', [x44, floats([0, 0, 0.4, 0.6, 1, 1, 1.2, 1.7]), undefined, ints([1, 1, 3, 3])], { ...crop, extrapolation_value: 10 }, R13, [
      floats([7.6, 10, 10, 12.4, 10, 10, 10, 10, 10], [1, 1, 3, 3]),
    ]);
  });

  it('opset 18 axes and keep_aspect_ratio_policy', async () => {
    const c = { opset: 18, constInputs: [1, 2, 3] };
    await checkOp('Resize', [x22, undefined, floats([2, 3])], { axes: [-2, 3], mode: 'linear' }, c);
    for (const [policy, side] of [['not_larger', 7], ['not_smaller', 8]] as const) {
      const [y] = await runOp('webgpu', 'Resize', [x22, undefined, undefined, ints([7, 8])], { axes: [2, 3], keep_aspect_ratio_policy: policy }, c);
      expect(y!.dims).toEqual([1, 1, side, side]);
      await checkOp('Resize', [x22, undefined, undefined, ints([7, 8])], { axes: [2, 3], keep_aspect_ratio_policy: policy }, c);
    }
  });

  it('opset 10 Resize and Upsample (7: attribute, 9: input): asymmetric, floor', async () => {
    const want = floats([1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4], [1, 1, 4, 6]);
    await expectOp('Resize', [x22, floats([1, 1, 2, 3])], { mode: 'nearest' }, { opset: 10, constInputs: [1] }, [want]);
    await expectOp('Upsample', [x22, floats([1, 1, 2, 3])], { mode: 'nearest' }, { opset: 9, constInputs: [1] }, [want]);
    await expectOp('Upsample', [x22], { mode: 'nearest', scales: [1, 1, 2, 3] }, { opset: 7 }, [want]);
    await expectOp('Upsample', [x22, floats([1, 1, 2, 2])], { mode: 'linear' }, { opset: 9, constInputs: [1] }, [
      floats([1, 1.5, 2, 2, 2, 2.5, 3, 3, 3, 3.5, 4, 4, 3, 3.5, 4, 4], [1, 1, 4, 4]),
    ]);
  });

  it('rejects unknown modes, linear on integers, and scales with sizes', async () => {
    await expectLoadError('Resize', [x22, undefined, floats([1, 1, 2, 2])], { mode: 'lanczos' }, R13, /lanczos/);
    await expectLoadError('Resize', [tensor('int64', [2], [1, 2]), undefined, floats([2])], { mode: 'cubic' }, R13, /float32/);
    await expectLoadError('Resize', [x22, undefined, floats([1, 1, 2, 2]), ints([1, 1, 4, 4])], {}, R13, /not both/);
  });
});

describe('Resize: kernel matches the reference', () => {
  const ctms = ['half_pixel', 'asymmetric', 'align_corners', 'pytorch_half_pixel', 'tf_half_pixel_for_nn', 'half_pixel_symmetric'];
  const arb = dimsArb(4, 1, 5).chain((dims) =>
    fc.tuple(
      fc.constant(dims),
      fc.array(fc.constantFrom(0.5, 0.6, 1, 1.5, 2, 3), { minLength: dims.length, maxLength: dims.length }),
      fc.boolean(),
      fc.constantFrom(...ctms),
      fc.nat(),
    ));

  it('linear and cubic (exclude_outside, cubic_coeff_a) over every axis, every coordinate mode, scales or sizes', async () => {
    const interpolation = fc.record({ mode: fc.constantFrom('linear', 'cubic'), exclude_outside: fc.constantFrom(0, 1), cubic_coeff_a: fc.constantFrom(-0.75, -0.5) });
    await fc.assert(fc.asyncProperty(arb, interpolation, async ([dims, scales, bySizes, ctm, seed], interp) => {
      const x = data('float32', dims, seed);
      const attrs = { ...interp, coordinate_transformation_mode: ctm };
      if (bySizes) await checkOp('Resize', [x, undefined, undefined, ints(dims.map((d, i) => Math.max(1, Math.round(d * scales[i]!))))], attrs, { ...R13, opset: 19 });
      else await checkOp('Resize', [x, undefined, floats(scales)], attrs, { ...R13, opset: 19 });
    }), { numRuns: 8 });
  });

  it('nearest, every rounding mode, on int64 and bool data too', async () => {
    const modes = fc.constantFrom('round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil');
    await fc.assert(fc.asyncProperty(arb, modes, fc.constantFrom('float32', 'int64', 'bool' as const), async ([dims, scales, , ctm, seed], nearest, dtype) => {
      const attrs = { mode: 'nearest', coordinate_transformation_mode: ctm, nearest_mode: nearest };
      await checkOp('Resize', [data(dtype, dims, seed), undefined, floats(scales)], attrs, { ...R13, opset: 19 });
    }), { numRuns: 8 });
  });
});
