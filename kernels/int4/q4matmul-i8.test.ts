import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ModelFormatError } from '../../core/errors.js';
import type { Attrs } from '../../core/ir/graph.js';
import { planModel } from '../../core/runtime/plan.js';
import { planKernels } from '../../core/runtime/kernel-plans.js';
import type { Tensor } from '../../core/tensor.js';
import { PACKED_DOT_FEATURE } from '../quant/gpu.js';
import { dynamicScale, maxAbs } from '../quant/pack.js';
import { integerFloats, runEverywhere, runGpuWithFeatures } from '../quant/test-util.js';
import { expectClose, oneNodeModel, randomTensor, runOp, testDevice } from '../testing/harness.js';
import { GROUP, groupsOf, halfScaleWords, packHalfScales, unpackInt4Blocks, zeroPointWords } from './pack.js';
import { caseArb, CONSTS, q4Inputs } from './test-util.js';

/**
 * Q4MatMul with int8 activations (act_scale static, act_int8 = 1 dynamic): kernels against the
 * reference, which follows docs/compressed-formats.md's float order step by step, and integer
 * accumulators bit-identical on WebGPU (both dot variants), the CPU and the reference.
 */

/** Only the group sum and the epilogue may round differently (a GPU may fuse multiply-adds). */
const TOL = { atol: 1e-4, rtol: 1e-4 };

const actModeArb = fc.constantFrom<Attrs>({ act_scale: 0.02 }, { act_scale: 0.007 }, { act_int8: 1 });
const activationArb = fc.constantFrom<Attrs>({}, { _activation: 'Relu', _alpha: 0, _beta: 0 }, { _activation: 'Gelu', _alpha: 0, _beta: 0 });

describe('Q4MatMul with int8 activations', () => {
  it('matches the reference on odd shapes, batch dims, zero points, fp16 scales, bias, static and dynamic scales, fused activations', async () => {
    await fc.assert(fc.asyncProperty(caseArb, actModeArb, activationArb, async (c, mode, act) => {
      const inputs = q4Inputs(c);
      const attrs = { ...mode, ...act };
      const [gpu, cpu, ref] = await runEverywhere('Q4MatMul', inputs, attrs, CONSTS);
      expectClose(gpu!, ref!, TOL, 'webgpu');
      // The CPU kernel takes the reference's float steps in the same order: only a fused
      // activation (vector approximations on the CPU) may differ.
      if (act._activation === undefined) expect(cpu!.data).toEqual(ref!.data);
      else expectClose(cpu!, ref!, TOL, 'cpu');
    }), { numRuns: 16 });
  });

  it('M = 1 GEMV and the M ≥ 4 blocked kernel on wide layers, both WGSL dot variants', async () => {
    for (const [m, k, n, zeroPoint] of [[1, 1000, 67, false], [1, 256, 130, true], [37, 300, 45, true], [5, 64, 9, false]] as const) {
      const inputs = q4Inputs({ batch: [], m, k, n, zeroPoint, scaleDtype: 'float16', bias: true, seed: k + m });
      for (const attrs of [{ act_int8: 1 }, { act_scale: 0.01 }] as Attrs[]) {
        const [gpu, cpu, ref] = await runEverywhere('Q4MatMul', inputs, attrs, CONSTS);
        expectClose(gpu!, ref!, TOL, 'webgpu');
        expect(cpu!.data).toEqual(ref!.data);
        expectClose(await runGpuWithFeatures('Q4MatMul', inputs, attrs, new Set(), CONSTS), ref!, TOL, 'webgpu portable');
      }
    }
  });

  it('integer accumulators are bit-identical on every backend and both WGSL variants', async () => {
    // Integer A at act_scale = 1 quantizes to itself; scales are powers of two, so every product
    // acc_g·scale and every partial sum is a multiple of 1/2 well below 2^23 (asserted): the float
    // epilogue is exact and each output is Σ_g acc_g·scale[n,g] exactly.
    for (const [m, n, k, zeroPoint, half] of [[1, 37, 4096, false, true], [6, 13, 4093, true, false], [3, 5, 31, true, true], [70, 9, 100, false, false]] as const) {
      const groups = groupsOf(k);
      const a = integerFloats([m, k], m + k);
      const packed = randomTensor('int32', [n, groups * 4], n + k, [-(2 ** 31), 2 ** 31 - 1]);
      const zp = zeroPoint ? randomTensor('int32', [n, zeroPointWords(groups)], k, [-(2 ** 31), 2 ** 31 - 1]) : undefined;
      const scaleValues = Float32Array.from({ length: n * groups }, (_, i) => [0.5, 1, 2, -1][(i * 7 + 3) % 4]!);
      const scales: Tensor = half
        ? { dtype: 'int32', dims: [n, halfScaleWords(groups)], data: packHalfScales(scaleValues, n, groups) }
        : { dtype: 'float32', dims: [n, groups], data: scaleValues };
      const w = unpackInt4Blocks(packed.data, zp?.data, n, k);
      const expected = new Float32Array(m * n);
      let peak = 0;
      for (let r = 0; r < m; r++) {
        for (let c = 0; c < n; c++) {
          let y = 0;
          let bound = 0;
          for (let g = 0; g < groups; g++) {
            let acc = 0;
            for (let p = g * GROUP; p < Math.min(k, (g + 1) * GROUP); p++) acc += a.data[r * k + p]! * w[c * k + p]!;
            y += acc * scaleValues[c * groups + g]!;
            bound += Math.abs(acc * scaleValues[c * groups + g]!);
          }
          expected[r * n + c] = y;
          peak = Math.max(peak, bound);
        }
      }
      expect(peak).toBeLessThan(2 ** 23);
      const inputs = [a, packed, scales, zp];
      const attrs = { act_scale: 1 };
      const outs = [
        ...(await runEverywhere('Q4MatMul', inputs, attrs, CONSTS)),
        await runGpuWithFeatures('Q4MatMul', inputs, attrs, new Set(), CONSTS),
        await runGpuWithFeatures('Q4MatMul', inputs, attrs, new Set([PACKED_DOT_FEATURE]), CONSTS),
      ];
      for (const out of outs) expect(out.data).toEqual(expected);
    }
  });

  it('the dynamic scale quantizes identically everywhere on the test adapter (exact outputs, unit scales, no bias)', async () => {
    const [m, n, k] = [5, 19, 1001];
    const groups = groupsOf(k);
    const inputs = [
      randomTensor('float32', [m, k], 11, [-3, 3]),
      randomTensor('int32', [n, groups * 4], 12, [-(2 ** 31), 2 ** 31 - 1]),
      { dtype: 'float32', dims: [n, groups], data: new Float32Array(n * groups).fill(1) } as Tensor,
    ];
    const [gpu, cpu, ref] = await runEverywhere('Q4MatMul', inputs, { act_int8: 1 }, CONSTS);
    // s = amax/127 is not a power of two, so t·s rounds: exact agreement means the same t and s.
    expect(gpu!.data).toEqual(ref!.data);
    expect(cpu!.data).toEqual(ref!.data);
    expect((await runGpuWithFeatures('Q4MatMul', inputs, { act_int8: 1 }, new Set(), CONSTS)).data).toEqual(ref!.data);
  });

  it('plans dot4I8Packed where the device has the WGSL feature and the portable dot otherwise', async () => {
    const { wgslFeatures } = await testDevice();
    expect(wgslFeatures.has(PACKED_DOT_FEATURE), `the test adapter should offer ${PACKED_DOT_FEATURE}, so both variants are tested`).toBe(true);
    for (const m of [1, 8]) {
      const plan = planModel(oneNodeModel('Q4MatMul', q4Inputs({ batch: [], m, k: 70, n: 9, zeroPoint: true, scaleDtype: 'float32', bias: false, seed: 1 }), { act_int8: 1 }, CONSTS));
      const codes = (features: ReadonlySet<string>): string => planKernels(plan, 'webgpu', features)
        .flatMap((p) => (p.kind === 'dispatch' ? p.programs.map((q) => q.code) : [])).join('\n');
      expect(codes(wgslFeatures)).toMatch(/\bdot4I8Packed\(/);
      expect(codes(new Set())).not.toMatch(/\bdot4I8Packed\(/);
    }
  });

  it('differs from the float path by no more than the activation rounding: |Δy| ≤ s/2 · Σ_k |W_float[n,k]|', async () => {
    const [m, k, n] = [4, 200, 16];
    const inputs = q4Inputs({ batch: [], m, k, n, zeroPoint: true, scaleDtype: 'float32', bias: true, seed: 4 });
    const [a, packed, scales, zp] = inputs as Tensor[];
    const [float] = await runOp('reference', 'Q4MatMul', inputs, {}, CONSTS);
    const [int8] = await runOp('cpu', 'Q4MatMul', inputs, { act_int8: 1 }, CONSTS);
    const w = unpackInt4Blocks(packed!.data, zp!.data, n, k);
    for (let r = 0; r < m; r++) {
      const s = dynamicScale(maxAbs(a!.data, r * k, k)).scale;
      for (let c = 0; c < n; c++) {
        let l1 = 0;
        for (let p = 0; p < k; p++) l1 += Math.abs(w[c * k + p]! * scales!.data[c * groupsOf(k) + (p >> 5)]!);
        const delta = Math.abs(int8!.data[r * n + c]! - float!.data[r * n + c]!);
        expect(delta).toBeLessThanOrEqual((s / 2) * l1 + 1e-4);
      }
    }
    expect(int8!.data).not.toEqual(float!.data);
  });

  it('refuses a bad act_int8 or act_scale with a ModelFormatError', async () => {
    const inputs = q4Inputs({ batch: [], m: 1, k: 40, n: 3, zeroPoint: false, scaleDtype: 'float32', bias: false, seed: 1 });
    for (const attrs of [{ act_int8: 2 }, { act_scale: -1 }, { act_scale: Infinity }] as Attrs[]) {
      await expect(runOp('cpu', 'Q4MatMul', inputs, attrs, CONSTS)).rejects.toThrow(ModelFormatError);
    }
  });
});
