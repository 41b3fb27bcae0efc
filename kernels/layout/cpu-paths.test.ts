import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { instantiateCpuKernels } from '../../core/runtime/cpu/kernel-module.js';
import { sizeOf, stridesOf, tensor } from '../../core/tensor.js';
import { checkOp, expectClose, runOp } from '../testing/harness.js';
import { stridedProgram, type Bound, type StridedAxis, type StridedCopy } from './strided-kernel.js';
import { data, expectOp, floats, ints } from './test-util.js';

/**
 * Shapes aimed at the paths of the C kernels that the small random shapes of the other layout tests
 * reach rarely: rows long enough for memcpy and SIMD fills, backward and broadcast runs, pads that
 * wrap or reflect more than once, copies merged down to rank 0, interpolation four outputs at a
 * time with some of them outside the source. Every case still runs on all backends.
 */

describe('strided copy: row runs', () => {
  it('contiguous, backward, strided, broadcast and transposed rows (blocks of 4 and 16 rows, with tails)', async () => {
    const x = data('float32', [3, 50], 1);
    const c = { constInputs: [1, 2, 3, 4] };
    await checkOp('Slice', [x, ints([0, -1]), ints([3, -100]), ints([0, 1]), ints([1, -1])], {}, c);
    await checkOp('Slice', [x, ints([1, 2]), ints([3, 47]), ints([0, 1]), ints([1, 3])], {}, c);
    await checkOp('Slice', [x, ints([2, 45]), ints([-100, 0]), ints([0, 1]), ints([-2, -2])], {}, c);
    await checkOp('Expand', [data('int64', [5, 1], 2), ints([5, 37])], {}, { constInputs: [1] });
    await checkOp('Expand', [data('bool', [1, 37], 3), ints([5, 37])], {}, { constInputs: [1] });
    await checkOp('Transpose', [data('int32', [7, 33, 5], 4)], { perm: [2, 0, 1] });
    await checkOp('Transpose', [data('float32', [37, 21], 4)], { perm: [1, 0] });
    await checkOp('Transpose', [data('float32', [2, 18, 5, 7], 4)], { perm: [0, 2, 3, 1] });
    await checkOp('Transpose', [data('float32', [9, 5, 11], 4)], { perm: [2, 1, 0] });
    await checkOp('Concat', [data('float32', [4, 19], 5), data('float32', [4, 30], 6)], { axis: 1 });
    await checkOp('Split', [data('float32', [4, 49], 7), ints([20, 0, 29])], { axis: 1 }, { constInputs: [1], outputs: 3 });
    await checkOp('Tile', [data('float32', [3, 17], 8), ints([2, 3])], {}, { constInputs: [1] });
  });

  it('Pad wider than the axis, every mode, on long rows and single-element axes', async () => {
    const c = { opset: 19, constInputs: [1, 2] };
    for (const mode of ['constant', 'reflect', 'edge', 'wrap']) {
      await checkOp('Pad', [data('float32', [2, 9], 9), ints([1, 20, 2, 25]), floats([-2], [])], { mode }, c);
      await checkOp('Pad', [data('int64', [3, 1], 10), ints([0, 5, 1, 6]), ints([7], [])], { mode }, c);
    }
  });

  it('copies merged down to rank 0', async () => {
    await checkOp('Gather', [data('float32', [6], 11), ints([-2], [])], { axis: 0 });
    await checkOp('Slice', [data('int64', [4, 5], 12), ints([2, 3]), ints([3, 4])], {}, { opset: 13, constInputs: [1, 2] });
  });
});

describe('strided gather: indices out of range', () => {
  // ONNX leaves them undefined (the reference rejects them); both kernels clamp to the axis.
  it('clamp on the CPU as on WebGPU, for a row-constant and a per-element index', async () => {
    const x = data('float32', [4, 5], 13);
    const cases = [
      { op: 'Gather', idx: ints([7, -9, 1, -1], [2, 2]), axis: 0 },
      { op: 'Gather', idx: ints([5, -6, 2]), axis: 1 },
      { op: 'GatherElements', idx: ints([9, -8, 0, 4, -1, 5], [2, 3]), axis: 1 },
    ];
    for (const { op, idx, axis } of cases) {
      const [gpu] = await runOp('webgpu', op, [x, idx], { axis });
      const [cpu] = await runOp('cpu', op, [x, idx], { axis });
      expectClose(cpu!, gpu!, { atol: 0, rtol: 0 }, 'cpu');
    }
    const [y] = await runOp('cpu', 'Gather', [floats([1, 2, 3]), ints([3, -4])], { axis: 0 });
    expect([...y!.data]).toEqual([3, 1]);
  });
});

describe('resize: rows four at a time', () => {
  const R13 = { opset: 13, constInputs: [1, 2, 3] };

  it('linear and cubic on long rows, tf_crop_and_resize with outputs partly outside', async () => {
    const x = data('float32', [1, 2, 7, 11], 14);
    for (const mode of ['linear', 'cubic']) {
      await checkOp('Resize', [x, undefined, undefined, ints([1, 2, 9, 23])], { mode }, R13);
      await checkOp('Resize', [x, undefined, floats([1, 1, 0.6, 1.7])], { mode, coordinate_transformation_mode: 'align_corners' }, R13);
      const roi = floats([0, 0, -0.2, -0.3, 1, 1, 1.3, 1.1]);
      await checkOp('Resize', [x, roi, undefined, ints([1, 2, 6, 17])], { mode, coordinate_transformation_mode: 'tf_crop_and_resize', extrapolation_value: 2.5 }, R13);
    }
    await checkOp('Resize', [data('int64', [2, 3, 13], 15), undefined, floats([1, 1.5, 2.5])], { mode: 'nearest' }, R13);
  });

  it('a zero weight on an infinite source adds nothing', async () => {
    const x = floats([1, Infinity, 3, 4, 5]);
    const attrs = { mode: 'linear', coordinate_transformation_mode: 'align_corners' };
    // Outputs at 0, 0.5, 1, …: the integer ones read one tap with weight 1 and one with weight 0.
    const want = floats([1, Infinity, Infinity, Infinity, 3, 3.5, 4, 4.5, 5]);
    await expectOp('Resize', [x, undefined, undefined, ints([9])], attrs, R13, [want]);
    // The same along a row above the innermost axis, and along both.
    await checkOp('Resize', [floats([1, 2, Infinity, 4, 5, 6], [3, 2]), undefined, undefined, ints([5, 3])], attrs, R13);
    await checkOp('Resize', [floats([1, 2, 3, Infinity, 5, 6, 7, 8, 9], [3, 3]), undefined, undefined, ints([5, 6])], attrs, R13);
  });
});

describe('Dropout with its mask', () => {
  it('copies the data and fills the mask', async () => {
    const x = data('float32', [3, 7], 16);
    await expectOp('Dropout', [x], {}, { outputs: 2 }, [x, tensor('bool', [3, 7], new Array<number>(21).fill(1))]);
  });
});

describe('strided.c against its header formula', () => {
  /**
   * Uniform blocks no op plans today (edge rules with any start and step, an index together with an
   * edge rule) still mean what strided.wgsl computes: the C twin is checked on random ones against
   * the formula itself, transcribed below.
   */
  const ruleArb = fc.constantFrom<Bound>('none', 'wrap', 'clamp', 'reflect', 'fill');
  const axisArb = fc.record({
    n: fc.integer({ min: 1, max: 6 }),
    srcDim: fc.integer({ min: 1, max: 5 }),
    start: fc.integer({ min: -7, max: 7 }),
    step: fc.integer({ min: -3, max: 3 }),
    indexed: fc.boolean(),
    // The whole source axis in order: an axis the edge rule never touches, which the planner merges.
    whole: fc.boolean(),
  }).map((a) => (a.whole ? { ...a, start: 0, step: 1, n: a.srcDim } : a));
  const copyArb = fc.tuple(fc.array(axisArb, { maxLength: 4 }), ruleArb, fc.boolean(), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 3 }), fc.nat());

  function bound(rule: Bound, k: number, n: number): number {
    switch (rule) {
      case 'none': return k;
      case 'wrap': return ((k % n) + n) % n;
      case 'clamp': return Math.min(Math.max(k, 0), n - 1);
      case 'reflect': {
        if (n === 1) return 0;
        const r = ((k % (2 * (n - 1))) + 2 * (n - 1)) % (2 * (n - 1));
        return r >= n ? 2 * (n - 1) - r : r;
      }
      case 'fill': return k < 0 || k >= n ? -1 : k;
    }
  }

  it('any starts, steps, edge rule and index', async () => {
    const kernels = await instantiateCpuKernels();
    const memory = (): Uint32Array => new Uint32Array(kernels.memory.buffer);
    kernels.memory.grow(4);
    const at = Math.ceil(kernels.heapBase / 64) * 64;
    await fc.assert(fc.asyncProperty(copyArb, async ([spec, rule, gathered, gatherDim, srcBase, seed]) => {
      // Without an edge rule every coordinate must land inside the source: start and step made to.
      const axes0 = spec.map((a) => (rule === 'none' ? { ...a, start: a.step < 0 ? a.srcDim - 1 : 0, step: Math.sign(a.step), n: Math.min(a.n, a.srcDim) } : a));
      const gatherStride = gathered ? 1 : 0;
      const srcStrides = stridesOf([...axes0.map((a) => a.srcDim), gathered ? gatherDim : 1]);
      const idxStrides = stridesOf(axes0.map((a) => (a.indexed ? a.n : 1)));
      const axes: StridedAxis[] = axes0.map((a, d) => ({ n: a.n, start: a.start, step: a.step, srcDim: a.srcDim, srcStride: srcStrides[d]!, idxStride: a.indexed ? idxStrides[d]! : 0 }));
      const dims = axes.map((a) => a.n);
      const count = sizeOf(dims);
      const srcLen = srcBase + srcStrides[0]! * (axes0[0]?.srcDim ?? (gathered ? gatherDim : 1));
      const src = Uint32Array.from({ length: srcLen }, (_, i) => 1000 + i);
      const idx = Int32Array.from(data('int32', [sizeOf(axes0.map((a) => (a.indexed ? a.n : 1)))], seed).data, (v) => (v % (gatherDim + 3)));
      const copy: StridedCopy = { dtype: 'int32', src: 0, dst: 0, axes, srcBase, bound: rule, fill: 7, ...(gathered ? { gather: { input: 1, dim: gatherDim, stride: gatherStride } } : {}) };

      const want = new Uint32Array(count);
      const coord = new Array<number>(dims.length).fill(0);
      for (let i = 0; i < count; i++) {
        let s = srcBase;
        let j = 0;
        let outside = false;
        axes.forEach((a, d) => {
          const k = bound(rule, a.start! + coord[d]! * a.step!, a.srcDim!);
          outside ||= k < 0;
          s += k * a.srcStride;
          j += coord[d]! * a.idxStride!;
        });
        if (gathered) {
          const g = idx[j]! < 0 ? idx[j]! + gatherDim : idx[j]!;
          s += Math.min(Math.max(g, 0), gatherDim - 1) * gatherStride;
        }
        want[i] = outside ? 7 : src[s]!;
        for (let d = dims.length - 1; d >= 0; d--) {
          if (++coord[d]! < dims[d]!) break;
          coord[d] = 0;
        }
      }

      const [program] = stridedProgram(copy);
      const srcAt = at;
      const idxAt = srcAt + 64 * Math.ceil(src.length / 16);
      const dstAt = idxAt + 64 * Math.ceil(idx.length / 16);
      const uniAt = dstAt + 64 * Math.ceil(count / 16);
      memory().set(src, srcAt / 4);
      new Int32Array(kernels.memory.buffer).set(idx, idxAt / 4);
      memory().set(program!.uniforms!, uniAt / 4);
      if (gathered) kernels.fns.strided_gather!(srcAt, idxAt, dstAt, uniAt);
      else kernels.fns.strided_copy!(srcAt, dstAt, uniAt);
      expect([...memory().subarray(dstAt / 4, dstAt / 4 + count)]).toEqual([...want]);
    }), { numRuns: 300 });
  });
});
