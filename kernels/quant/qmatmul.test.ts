import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ModelFormatError, ShapeError } from '../../core/errors.js';
import type { Attrs } from '../../core/ir/graph.js';
import { planModel } from '../../core/runtime/plan.js';
import { planKernels } from '../../core/runtime/kernel-plans.js';
import { Session } from '../../core/session.js';
import type { Tensor } from '../../core/tensor.js';
import { expectClose, oneNodeModel, randomTensor, testDevice } from '../testing/harness.js';
import { PACKED_DOT_FEATURE } from './gpu.js';
import { attrsOf, caseArb, integerFloats, integerProduct, integerWeights, Q_OPTIONS, quantizedWeights, runEverywhere, runGpuWithFeatures, type Case } from './test-util.js';

/** Kernels may differ from the reference only in the float epilogue's rounding. */
const TOL = { atol: 1e-5, rtol: 1e-5 };


function inputsOf(c: Case, seed: number): (Tensor | undefined)[] {
  return [randomTensor('float32', [...c.batch, c.k], seed, [-1.5, 1.5]), ...quantizedWeights(c.n, c.k, seed + 7, c.bias)];
}


describe('QMatMul', () => {
  it('matches the reference on WebGPU and the CPU: odd K, any N, M = 1, batch dims, static and dynamic scales, fused activations', async () => {
    await fc.assert(fc.asyncProperty(caseArb(70, 5), fc.nat(), async (c, seed) => {
      const [gpu, cpu, ref] = await runEverywhere('QMatMul', inputsOf(c, seed), attrsOf(c));
      expectClose(gpu!, ref!, TOL, 'webgpu');
      expectClose(cpu!, ref!, TOL, 'cpu');
    }), { numRuns: 24 });
  });

  it('covers the 4x4-blocked GEMM path: M = 67, K = 200, N = 45', async () => {
    const c: Case = { batch: [67], k: 200, n: 45, bias: true, actScale: 0 };
    const [gpu, cpu, ref] = await runEverywhere('QMatMul', inputsOf(c, 3), attrsOf(c));
    expectClose(gpu!, ref!, TOL, 'webgpu');
    expectClose(cpu!, ref!, TOL, 'cpu');
  });

  it('integer accumulators are bit-identical on every backend and both WGSL variants, K up to 4096', async () => {
    for (const [m, n, k] of [[1, 37, 4096], [6, 13, 4093], [3, 5, 31]] as const) {
      const a = integerFloats([m, k], m + k);
      const { w, wscale, values } = integerWeights(n, k, n + k);
      const expected = integerProduct(a, values, m, n, k);
      const peak = Math.max(...expected.map(Math.abs));
      // Exact in f32 (< 2^24), and past what 16-bit partial sums could hold.
      expect(peak).toBeLessThan(2 ** 24);
      if (k > 1000) expect(peak).toBeGreaterThan(2 ** 16);
      const inputs = [a, w, wscale, undefined];
      const attrs = { k, act_scale: 1 };
      const outs = [
        ...(await runEverywhere('QMatMul', inputs, attrs)),
        await runGpuWithFeatures('QMatMul', inputs, attrs, new Set()),
        await runGpuWithFeatures('QMatMul', inputs, attrs, new Set([PACKED_DOT_FEATURE])),
      ];
      for (const out of outs) expect(out.data).toEqual(expected);
    }
  });

  it('the dynamic scale quantizes identically everywhere on the test adapter (exact outputs without bias)', async () => {
    const [m, n, k] = [5, 19, 1001];
    const a = randomTensor('float32', [m, k], 11, [-3, 3]);
    const { w, wscale } = integerWeights(n, k, 12);
    const inputs = [a, w, wscale, undefined];
    const [gpu, cpu, ref] = await runEverywhere('QMatMul', inputs, { k });
    const portable = await runGpuWithFeatures('QMatMul', inputs, { k }, new Set());
    expect(gpu!.data).toEqual(ref!.data);
    expect(cpu!.data).toEqual(ref!.data);
    expect(portable.data).toEqual(ref!.data);
  });

  it('plans dot4I8Packed where the device has the WGSL feature and the portable dot otherwise', async () => {
    const { wgslFeatures } = await testDevice();
    expect(wgslFeatures.has(PACKED_DOT_FEATURE), `the test adapter should offer ${PACKED_DOT_FEATURE}, so both variants are tested`).toBe(true);
    const c: Case = { batch: [2], k: 9, n: 3, bias: false, actScale: 0 };
    const plan = planModel(oneNodeModel('QMatMul', inputsOf(c, 1), attrsOf(c), Q_OPTIONS));
    const codes = (features: ReadonlySet<string>): string => planKernels(plan, 'webgpu', features)
      .flatMap((p) => (p.kind === 'dispatch' ? p.programs.map((q) => q.code) : [])).join('\n');
    const packedCall = /\bdot4I8Packed\(/;
    expect(codes(wgslFeatures)).toMatch(packedCall);
    expect(codes(new Set())).not.toMatch(packedCall);
    const c2: Case = { batch: [9], k: 33, n: 21, bias: true, actScale: 0.02, act: 'Relu' };
    const inputs = inputsOf(c2, 5);
    const [, , ref] = await runEverywhere('QMatMul', inputs, attrsOf(c2));
    expectClose(await runGpuWithFeatures('QMatMul', inputs, attrsOf(c2), new Set()), ref!, TOL, 'webgpu portable');
  });

  it('refuses bad operands with typed errors', async () => {
    const load = (inputs: (Tensor | undefined)[], attrs: Attrs): Promise<Session> =>
      Session.load(oneNodeModel('QMatMul', inputs, attrs, Q_OPTIONS), { backend: 'cpu' });
    const a = randomTensor('float32', [2, 10], 1);
    const [w, ws] = quantizedWeights(4, 10, 2, false);
    // K = 10 needs 3 words per row.
    const wide: Tensor = { dtype: 'int32', dims: [4, 4], data: new Int32Array(16) };
    await expect(load([a, wide, ws, undefined], { k: 10 })).rejects.toThrow(ShapeError);
    await expect(load([a, w, ws, undefined], { k: 12 })).rejects.toThrow(ShapeError);
    await expect(load([randomTensor('float32', [2, 9], 1), w, ws, undefined], { k: 10 })).rejects.toThrow(ShapeError);
    await expect(load([a, w, randomTensor('float32', [3], 1), undefined], { k: 10 })).rejects.toThrow(ShapeError);
    await expect(load([a, w, ws, randomTensor('float32', [5], 1)], { k: 10 })).rejects.toThrow(ShapeError);
    await expect(load([a, w, ws, undefined], {})).rejects.toThrow(ModelFormatError);
    await expect(load([a, w, ws, undefined], { k: 10, act_scale: -1 })).rejects.toThrow(ModelFormatError);
  });
});
