import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UnsupportedOpError } from '../../core/errors.js';
import { sizeOf, tensor } from '../../core/tensor.js';
import { checkOp, runOp } from '../testing/harness.js';
import { data, dimsArb, dtypeArb, expectLoadError, expectOp, floats, ints, loadReport, RUNS } from './test-util.js';

describe('views alias their input on WebGPU', () => {
  it('Reshape: shuffled dims with 0 (copy) and one -1 (inferred)', async () => {
    const arb = dimsArb(4, 0, 5).chain((dims) =>
      fc.tuple(fc.constant(dims), fc.shuffledSubarray(dims, { minLength: dims.length, maxLength: dims.length }), fc.integer({ min: -1, max: dims.length - 1 }), dtypeArb, fc.nat()));
    await fc.assert(fc.asyncProperty(arb, async ([dims, target, infer, dtype, seed]) => {
      const shape = target.map((d, i) => (i === infer ? -1 : d === dims[i] && i % 2 === 0 ? 0 : d));
      await checkOp('Reshape', [data(dtype, dims, seed), ints(shape)], {}, { constInputs: [1] });
    }), RUNS);
  });

  it('Reshape: allowzero keeps a literal 0 (opset 14); errors are clear', async () => {
    await expectOp('Reshape', [floats([], [0, 3]), ints([3, 0])], { allowzero: 1 }, { opset: 14, constInputs: [1] }, [floats([], [3, 0])]);
    await expectOp('Reshape', [floats([1, 2, 3, 4, 5, 6], [2, 3]), ints([0, -1])], {}, { constInputs: [1] }, [floats([1, 2, 3, 4, 5, 6], [2, 3])]);
    await expectLoadError('Reshape', [floats([1, 2, 3], [3]), ints([2, -1])], {}, { constInputs: [1] }, /cannot infer -1/);
    await expectLoadError('Reshape', [floats([1, 2, 3], [3]), ints([-1, -1])], {}, { constInputs: [1] }, /more than one -1/);
  });

  it('Flatten at every axis, negative too', async () => {
    const arb = dimsArb(4, 1).chain((dims) => fc.tuple(fc.constant(dims), fc.integer({ min: -dims.length, max: dims.length }), dtypeArb, fc.nat()));
    await fc.assert(fc.asyncProperty(arb, async ([dims, axis, dtype, seed]) => {
      await checkOp('Flatten', [data(dtype, dims, seed)], { axis });
    }), RUNS);
  });

  it('Squeeze and Unsqueeze: axes attribute (opset 11), input (13), negative, all-ones default', async () => {
    const x = data('int64', [1, 3, 1, 2], 4);
    await checkOp('Squeeze', [x], { axes: [0, -2] }, { opset: 11 });
    await checkOp('Squeeze', [x, ints([-4])], {}, { opset: 13, constInputs: [1] });
    await expectOp('Squeeze', [x], {}, { opset: 13 }, [{ ...x, dims: [3, 2] }]);
    await checkOp('Unsqueeze', [x], { axes: [0, 5] }, { opset: 11 });
    await expectOp('Unsqueeze', [x, ints([-1, 1])], {}, { opset: 13, constInputs: [1] }, [{ ...x, dims: [1, 1, 3, 1, 2, 1] }]);
    await expectLoadError('Squeeze', [x, ints([1])], {}, { opset: 13, constInputs: [1] }, /is 3, not 1/);
  });

  it('Identity and Dropout (opset 10 attribute, opset 13 inputs) pass data through', async () => {
    const x = data('bool', [2, 5], 6);
    await checkOp('Identity', [x]);
    await checkOp('Dropout', [data('float32', [3, 4], 1)], { ratio: 0.3 }, { opset: 10 });
    await checkOp('Dropout', [data('float32', [3, 4], 1), floats([0.5], []), tensor('bool', [], [0])], {}, { opset: 13, constInputs: [1, 2] });
    await expectLoadError('Dropout', [data('float32', [3], 1), floats([0.5], []), tensor('bool', [], [1])], {}, { opset: 13, constInputs: [1, 2] }, /training mode/);
    // Training mode with ratio 0 is the identity too; the mask output (all true) costs a copy.
    const y = data('int64', [2, 3], 2);
    await expectOp('Dropout', [y, floats([0], []), tensor('bool', [], [1])], {}, { opset: 13, constInputs: [1, 2], outputs: 2 }, [y, tensor('bool', [2, 3], [1, 1, 1, 1, 1, 1])]);
  });

  it('no view dispatches anything', async () => {
    const x = data('float32', [2, 1, 3], 2);
    const cases: [string, readonly ReturnType<typeof ints>[], Record<string, number>, number[]][] = [
      ['Reshape', [ints([3, 2])], {}, [1]],
      ['Flatten', [], { axis: 2 }, []],
      ['Squeeze', [ints([1])], {}, [1]],
      ['Unsqueeze', [ints([0])], {}, [1]],
      ['Identity', [], {}, []],
      ['Dropout', [], {}, []],
    ];
    for (const [op, extra, attrs, constInputs] of cases) {
      const report = await loadReport(op, [x, ...extra], attrs, { constInputs });
      expect(report.dispatchesPerRun, op).toBe(0);
    }
  });
});

describe('shape ops fold at load', () => {
  it('Shape (start/end from opset 15, negative and clamped) and Size fold even on run-time inputs', async () => {
    const arb = dimsArb(5).chain((dims) => fc.tuple(fc.constant(dims), fc.integer({ min: -7, max: 7 }), fc.option(fc.integer({ min: -7, max: 7 }))));
    await fc.assert(fc.asyncProperty(arb, async ([dims, start, end]) => {
      const x = data('float32', dims, 1);
      const want = dims.slice(...[start, end ?? undefined].map((v) => (v === undefined ? undefined : Math.min(Math.max(v < 0 ? v + dims.length : v, 0), dims.length))));
      await expectOp('Shape', [x], end === null ? { start } : { start, end }, { opset: 15 }, [ints(want)]);
      await expectOp('Size', [x], {}, {}, [ints([sizeOf(dims)], [])]);
    }), { numRuns: 4 });
    const report = await loadReport('Shape', [data('float32', [2, 3], 1)], { start: 1 }, { opset: 15 });
    expect([report.dispatchesPerRun, report.foldedAtLoad]).toEqual([0, 1]);
  });

  it('ConstantOfShape: default float 0, int64 and bool values, empty shape', async () => {
    const c = { constInputs: [0] };
    await expectOp('ConstantOfShape', [ints([2, 3])], {}, c, [floats([0, 0, 0, 0, 0, 0], [2, 3])]);
    await expectOp('ConstantOfShape', [ints([4])], { value: ints([-7], [1]) }, c, [ints([-7, -7, -7, -7])]);
    await expectOp('ConstantOfShape', [ints([2])], { value: tensor('bool', [1], [1]) }, c, [tensor('bool', [2], [1, 1])]);
    await expectOp('ConstantOfShape', [ints([], [0])], { value: floats([2.5], [1]) }, c, [floats([2.5], [])]);
    await expectOp('ConstantOfShape', [ints([3, 0])], {}, c, [floats([], [3, 0])]);
  });

  it('ConstantOfShape needs its shape at load', async () => {
    await expect(runOp('reference', 'ConstantOfShape', [ints([2])], {})).rejects.toThrow(UnsupportedOpError);
  });

  it('Range: int and float, negative delta, empty', async () => {
    const c = { constInputs: [0, 1, 2] };
    const s = (v: number, dtype: 'int64' | 'float32') => tensor(dtype, [], [v]);
    await expectOp('Range', [s(3, 'int64'), s(9, 'int64'), s(3, 'int64')], {}, c, [ints([3, 6])]);
    await expectOp('Range', [s(10, 'int64'), s(4, 'int64'), s(-2, 'int64')], {}, c, [ints([10, 8, 6])]);
    await expectOp('Range', [s(1, 'float32'), s(2, 'float32'), s(0.25, 'float32')], {}, c, [floats([1, 1.25, 1.5, 1.75])]);
    await expectOp('Range', [s(5, 'int64'), s(1, 'int64'), s(1, 'int64')], {}, c, [ints([])]);
  });
});
