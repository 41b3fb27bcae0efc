import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ModelFormatError, ShapeError } from '../../core/errors.js';
import type { Attrs, Model } from '../../core/ir/graph.js';
import { planKernels } from '../../core/runtime/kernel-plans.js';
import { planModel } from '../../core/runtime/plan.js';
import { Session } from '../../core/session.js';
import type { Tensor } from '../../core/tensor.js';
import { PACKED_DOT_FEATURE } from '../quant/gpu.js';
import { attrsOf, caseArb, integerFloats, integerProduct, runEverywhere, runGpuWithFeatures, type Case } from '../quant/test-util.js';
import { TESSERA_DOMAIN } from '../registry.js';
import { expectClose, expectModelOnBackends, oneNodeModel, randomTensor, runOp, testDevice } from '../testing/harness.js';
import { packSparse24Int8, unpackSparse24 } from './sparse24.js';

/** Kernels may differ from the reference only in the float epilogue's rounding. */
const TOL = { atol: 1e-5, rtol: 1e-5 };
const OPTIONS = { domain: TESSERA_DOMAIN, constInputs: [1, 2, 3, 4] } as const;


/** SparseQMatMul's inputs 1–4 from a float [N, K] matrix. */
function sparseWeights(w: ArrayLike<number>, n: number, k: number, bias: Tensor | undefined): (Tensor | undefined)[] {
  const { values, indices, scales } = packSparse24Int8(w, n, k);
  return [
    { dtype: 'int32', dims: [n, values.length / n], data: values },
    { dtype: 'int32', dims: [n, indices.length / n], data: indices },
    { dtype: 'float32', dims: [n], data: scales },
    bias,
  ];
}

function inputsOf(c: Case, seed: number): (Tensor | undefined)[] {
  const w = randomTensor('float32', [c.n, c.k], seed + 7, [-0.5, 0.5]).data;
  return [randomTensor('float32', [...c.batch, c.k], seed, [-1.5, 1.5]), ...sparseWeights(w, c.n, c.k, c.bias ? randomTensor('float32', [c.n], seed + 1) : undefined)];
}

/**
 * Integer 2:4 weights with unit scales: every row keeps a 127 (in group 0), so the per-channel
 * scale is exactly 1 and the packed values are the integers themselves.
 */
function integerSparse(n: number, k: number, seed: number): { inputs: (Tensor | undefined)[]; dense: Int8Array } {
  const w = Float32Array.from(randomTensor('int32', [n, k], seed, [-127, 127]).data);
  for (let r = 0; r < n; r++) w[r * k] = 127;
  const inputs = sparseWeights(w, n, k, undefined);
  expect([...inputs[2]!.data].every((s) => s === 1)).toBe(true);
  return { inputs, dense: unpackSparse24(inputs[0]!.data, inputs[1]!.data, n, k) };
}


describe('SparseQMatMul', () => {
  it('matches the reference on WebGPU and the CPU: odd K, any N, M = 1, batch dims, static and dynamic scales, bias, fused activations', async () => {
    await fc.assert(fc.asyncProperty(caseArb(90, 6), fc.nat(), async (c, seed) => {
      const [gpu, cpu, ref] = await runEverywhere('SparseQMatMul', inputsOf(c, seed), attrsOf(c), OPTIONS);
      expectClose(gpu!, ref!, TOL, 'webgpu');
      expectClose(cpu!, ref!, TOL, 'cpu');
    }), { numRuns: 24 });
  });

  it('covers every CPU row tile and channel tail: M = 67, K = 200, N = 45', async () => {
    const c: Case = { batch: [67], k: 200, n: 45, bias: true, actScale: 0, act: 'Relu' };
    const [gpu, cpu, ref] = await runEverywhere('SparseQMatMul', inputsOf(c, 3), attrsOf(c), OPTIONS);
    expectClose(gpu!, ref!, TOL, 'webgpu');
    expectClose(cpu!, ref!, TOL, 'cpu');
  });

  it('integer accumulators are bit-identical on every backend and all WGSL paths (kept table, byte-picking GEMM; packed and portable dots), K up to 4096', async () => {
    // M <= 64 takes the kept table ([2, 150, 300]: channels over 3 workgroups, the last one
    // part-filled), M > 64 the byte-picking GEMM.
    for (const [m, n, k] of [[1, 37, 4096], [3, 5, 4000], [2, 150, 300], [6, 13, 4093], [1, 8, 1], [68, 11, 1001], [65, 9, 31]] as const) {
      const a = integerFloats([m, k], m + k);
      const { inputs, dense } = integerSparse(n, k, n + k);
      const expected = integerProduct(a, dense, m, n, k);
      const peak = Math.max(...expected.map(Math.abs));
      // Exact in f32 (< 2^24), and past what 16-bit partial sums could hold.
      expect(peak).toBeLessThan(2 ** 24);
      if (k > 1000) expect(peak).toBeGreaterThan(2 ** 16);
      const all = [a, ...inputs];
      const attrs = { k, act_scale: 1 };
      const outs = [
        ...(await runEverywhere('SparseQMatMul', all, attrs, OPTIONS)),
        await runGpuWithFeatures('SparseQMatMul', all, attrs, new Set(), OPTIONS),
        await runGpuWithFeatures('SparseQMatMul', all, attrs, new Set([PACKED_DOT_FEATURE]), OPTIONS),
      ];
      for (const out of outs) expect(out.data).toEqual(expected);
    }
  });

  it('the dynamic scale quantizes identically everywhere on the test adapter (exact outputs without bias), GEMV and GEMM', async () => {
    // M = 3 takes the kept table (a dynamic scale per table row), M = 65 the quantized rows.
    for (const m of [3, 65]) {
      const [n, k] = [19, 1001];
      const a = randomTensor('float32', [m, k], 11, [-3, 3]);
      const all = [a, ...integerSparse(n, k, 12).inputs];
      const [gpu, cpu, ref] = await runEverywhere('SparseQMatMul', all, { k }, OPTIONS);
      const portable = await runGpuWithFeatures('SparseQMatMul', all, { k }, new Set(), OPTIONS);
      expect(gpu!.data).toEqual(ref!.data);
      expect(cpu!.data).toEqual(ref!.data);
      expect(portable.data).toEqual(ref!.data);
    }
  });

  it('plans dot4I8Packed where the device has the WGSL feature and the portable dot otherwise; the kept table up to M = 64, byte picking above', async () => {
    const { wgslFeatures } = await testDevice();
    expect(wgslFeatures.has(PACKED_DOT_FEATURE), `the test adapter should offer ${PACKED_DOT_FEATURE}`).toBe(true);
    const codes = (m: number, features: ReadonlySet<string>): string => {
      const c: Case = { batch: [m], k: 9, n: 3, bias: false, actScale: 0 };
      const plan = planModel(oneNodeModel('SparseQMatMul', inputsOf(c, 1), attrsOf(c), OPTIONS));
      return planKernels(plan, 'webgpu', features).flatMap((p) => (p.kind === 'dispatch' ? p.programs.map((q) => q.code) : [])).join('\n');
    };
    for (const m of [64, 65]) {
      expect(codes(m, wgslFeatures)).toMatch(/\bdot4I8Packed\(/);
      expect(codes(m, new Set())).not.toMatch(/\bdot4I8Packed\(/);
    }
    expect(codes(64, wgslFeatures)).toMatch(/\bstore6\(/);
    expect(codes(64, wgslFeatures)).not.toMatch(/\bgather_dot\(/);
    expect(codes(65, wgslFeatures)).toMatch(/\bgather_dot\(/);
    expect(codes(65, wgslFeatures)).not.toMatch(/\bstore6\(/);
  });

  it('fuses a following activation into its epilogue', async () => {
    const c: Case = { batch: [3], k: 40, n: 10, bias: true, actScale: 0 };
    const [a, ...weights] = inputsOf(c, 4);
    const model = oneNodeModel('SparseQMatMul', [a, ...weights], { k: c.k }, OPTIONS);
    const { graph } = model;
    const node = { ...graph.nodes[0]!, outputs: ['h'] };
    const relu = { name: 'relu', opType: 'Relu', domain: '', inputs: ['h'], outputs: ['y0'], attrs: {} };
    const two: Model = { ...model, graph: { ...graph, nodes: [node, relu] } };
    const plan = planModel(two);
    expect(plan.nodes.map((p) => [p.node.opType, p.node.attrs._activation])).toEqual([['SparseQMatMul', 'Relu']]);
    const [ref] = await runOp('reference', 'SparseQMatMul', [a, ...weights], { k: c.k, _activation: 'Relu', _alpha: 0, _beta: 0 }, OPTIONS);
    await expectModelOnBackends(two, { x0: a! }, 'y0', ref!, TOL);
  });

  it('refuses bad operands with typed errors', async () => {
    const load = (inputs: (Tensor | undefined)[], attrs: Attrs): Promise<Session> =>
      Session.load(oneNodeModel('SparseQMatMul', inputs, attrs, OPTIONS), { backend: 'cpu' });
    const c: Case = { batch: [2], k: 10, n: 4, bias: false, actScale: 0 };
    const [a, values, indices, ws] = inputsOf(c, 2);
    const int32 = (dims: number[]): Tensor => ({ dtype: 'int32', dims, data: new Int32Array(dims[0]! * dims[1]!) });
    // K = 10: 2 value words and 1 index word per row.
    await expect(load([a, int32([4, 3]), indices, ws, undefined], { k: 10 })).rejects.toThrow(ShapeError);
    await expect(load([a, values, int32([3, 1]), ws, undefined], { k: 10 })).rejects.toThrow(ShapeError);
    await expect(load([a, values, indices, ws, undefined], { k: 12 })).rejects.toThrow(ShapeError);
    await expect(load([a, values, indices, randomTensor('float32', [3], 1), undefined], { k: 10 })).rejects.toThrow(ShapeError);
    await expect(load([a, values, indices, ws, randomTensor('float32', [5], 1)], { k: 10 })).rejects.toThrow(ShapeError);
    await expect(load([a, values, indices, ws, undefined], {})).rejects.toThrow(ModelFormatError);
    // Code 0 (i0 = i1 = 0) is not a 2:4 pair.
    await expect(load([a, values, int32([4, 1]), ws, undefined], { k: 10 })).rejects.toThrow(ModelFormatError);
  });
});
