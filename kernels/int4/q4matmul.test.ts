import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ShapeError } from '../../core/errors.js';
import type { Attrs } from '../../core/ir/graph.js';
import type { Tensor } from '../../core/tensor.js';
import { TESSERA_DOMAIN } from '../registry.js';
import { checkOp, randomTensor, runOp } from '../testing/harness.js';
import { caseArb, checkFusedRelu, CONSTS, q4Inputs } from './test-util.js';

/**
 * Q4MatMul on WebGPU and the CPU against the reference, on shapes that do not divide the 32-wide
 * groups, the 64-wide workgroup or the 4-channel CPU block; the CPU's GEMV (M < 4) and its
 * dequantize-then-GEMM path (M ≥ 4) both.
 */

const TOL = { atol: 2e-4, rtol: 1e-4 };

describe('Q4MatMul with float activations', () => {
  it('matches the reference on odd shapes, batch dims, with and without zero points, fp16 scales, bias', async () => {
    await fc.assert(fc.asyncProperty(caseArb, async (c) => {
      await checkOp('Q4MatMul', q4Inputs(c), {}, { ...TOL, ...CONSTS });
    }), { numRuns: 14 });
  });

  it('M = 1 GEMV, the batch-1 case, on wide layers', async () => {
    for (const [k, n, zeroPoint] of [[256, 130, false], [300, 67, true], [1000, 33, false]] as const) {
      await checkOp('Q4MatMul', q4Inputs({ batch: [], m: 1, k, n, zeroPoint, scaleDtype: 'float16', bias: true, seed: k }), {}, { atol: 1e-3, rtol: 1e-4, ...CONSTS });
    }
  });

  it('1-D activations give a 1-D output', async () => {
    const inputs = q4Inputs({ batch: [], m: 1, k: 45, n: 5, zeroPoint: false, scaleDtype: 'float32', bias: false, seed: 3 });
    const [y] = await runOp('reference', 'Q4MatMul', [{ ...inputs[0]!, dims: [45] }, ...inputs.slice(1)], {}, CONSTS);
    expect(y!.dims).toEqual([5]);
    await checkOp('Q4MatMul', [{ ...inputs[0]!, dims: [45] }, ...inputs.slice(1)], {}, { ...TOL, ...CONSTS });
  });

  it('fuses an activation into the epilogue (as the fusion pass writes it)', async () => {
    const acts: Attrs[] = [
      { _activation: 'Relu', _alpha: 0, _beta: 0 }, { _activation: 'Gelu', _alpha: 0, _beta: 0 },
      { _activation: 'Clip', _alpha: -0.5, _beta: 0.75 }, { _activation: 'Sigmoid', _alpha: 0, _beta: 0 },
    ];
    for (const [i, act] of acts.entries()) {
      for (const m of [1, 6]) {
        await checkOp('Q4MatMul', q4Inputs({ batch: [], m, k: 70, n: 13, zeroPoint: i % 2 === 0, scaleDtype: 'float32', bias: true, seed: i }), act, { ...TOL, ...CONSTS });
      }
    }
  });

  it('reads the documented layout: nibbles k-ascending from the low bits, w = u - z, scale per group', async () => {
    // K = 40: group 0 is k 0..31, group 1 is k 32..39 (padded). Row 0 symmetric, row 1 with zero points.
    const k = 40;
    const words = new Int32Array(2 * 8);
    const u = (row: number, i: number): number => (i * 7 + row * 3) % 16;
    for (let row = 0; row < 2; row++) {
      for (let i = 0; i < 64; i++) words[row * 8 + (i >> 3)]! |= (i < k ? u(row, i) : 0) << (4 * (i & 7));
    }
    const scales = Float32Array.of(0.5, -2, 0.25, 3);
    const zp = Int32Array.of(0, 3 | (11 << 4)); // row 1: z = 3 for group 0, 11 for group 1
    const a = Float32Array.from({ length: k }, (_, i) => (i % 5) - 2);
    const expected = [0, 1].map((row) => {
      let y = 0;
      for (let i = 0; i < k; i++) {
        const g = i >> 5;
        const z = row === 0 ? 8 : g === 0 ? 3 : 11;
        y += scales[row * 2 + g]! * (u(row, i) - z) * a[i]!;
      }
      return y;
    });
    // Row 0's zero-point word is ignored only when no zero points are given: run the rows apart.
    const sym = await runOp('reference', 'Q4MatMul', [
      { dtype: 'float32', dims: [1, k], data: a }, { dtype: 'int32', dims: [1, 8], data: words.slice(0, 8) },
      { dtype: 'float32', dims: [1, 2], data: scales.slice(0, 2) },
    ], {}, { constInputs: [1, 2], domain: TESSERA_DOMAIN });
    const asym = await runOp('reference', 'Q4MatMul', [
      { dtype: 'float32', dims: [1, k], data: a }, { dtype: 'int32', dims: [1, 8], data: words.slice(8) },
      { dtype: 'float32', dims: [1, 2], data: scales.slice(2) }, { dtype: 'int32', dims: [1, 1], data: zp.slice(1) },
    ], {}, { constInputs: [1, 2, 3], domain: TESSERA_DOMAIN });
    expect(sym[0]!.data[0]).toBeCloseTo(expected[0]!, 4);
    expect(asym[0]!.data[0]).toBeCloseTo(expected[1]!, 4);
  });

  it('rejects packed inputs of the wrong dims with a ShapeError', async () => {
    const good = q4Inputs({ batch: [], m: 2, k: 40, n: 3, zeroPoint: true, scaleDtype: 'float32', bias: true, seed: 9 });
    const bad = (i: number, t: Tensor): (Tensor | undefined)[] => good.map((x, j) => (j === i ? t : x));
    const cases: [(Tensor | undefined)[], Attrs, RegExp][] = [
      [bad(1, randomTensor('int32', [3, 4], 1)), {}, /W must be int32 \[3, 8\]/],
      [bad(1, randomTensor('float32', [3, 8], 1)), {}, /W must be int32/],
      [bad(2, randomTensor('float32', [3, 1], 1)), {}, /scales must be float32 \[3, 2\]/],
      [bad(2, randomTensor('int32', [3, 2], 1)), {}, /fp16 scales must be int32 \[3, 1\]/],
      [bad(3, randomTensor('int32', [3, 2], 1)), {}, /zero points must be int32 \[3, 1\]/],
      [bad(4, randomTensor('float32', [4], 1)), {}, /bias must be float32 with 3 elements/],
      [good, { k: 41 }, /attribute k = 41 but A has K = 40/],
    ];
    for (const [inputs, attrs, message] of cases) {
      const run = runOp('reference', 'Q4MatMul', inputs, attrs, CONSTS);
      await expect(run).rejects.toThrow(ShapeError);
      await expect(run).rejects.toThrow(message);
    }
  });

  it('the fusion pass folds a following Relu into it, and the fused node agrees with the reference', async () => {
    const inputs = q4Inputs({ batch: [], m: 3, k: 50, n: 9, zeroPoint: true, scaleDtype: 'float16', bias: true, seed: 5 });
    await checkFusedRelu('Q4MatMul', inputs, {}, TOL);
  });
});
