import fc from 'fast-check';
import type { Attrs, Model } from '../../core/ir/graph.js';
import { planModel } from '../../core/runtime/plan.js';
import { GpuExecutable } from '../../core/runtime/webgpu/gpu-executable.js';
import type { Tensor } from '../../core/tensor.js';
import { TESSERA_DOMAIN } from '../registry.js';
import { KERNEL_BACKENDS, oneNodeModel, randomTensor, runOp, testDevice, type RunOpOptions, type TestBackend } from '../testing/harness.js';
import { packInt8Rows, quantizeWeightsPerChannel } from './pack.js';

/** Shared by the QMatMul, QConv and Q4MatMul (int8 activations) tests: quantized operands and runs on every backend. */

export const Q_OPTIONS = { domain: TESSERA_DOMAIN, constInputs: [1, 2, 3] } as const;

/** A float [N, K] matrix quantized per channel, plus an optional bias: QMatMul's inputs 1–3. */
export function quantizedWeights(n: number, k: number, seed: number, bias: boolean): [Tensor, Tensor, Tensor | undefined] {
  const wf = randomTensor('float32', [n, k], seed, [-0.5, 0.5]);
  const { packed, scales } = quantizeWeightsPerChannel(wf.data, n, k);
  return [
    { dtype: 'int32', dims: [n, packed.length / n], data: packed },
    { dtype: 'float32', dims: [n], data: scales },
    bias ? randomTensor('float32', [n], seed + 1) : undefined,
  ];
}

/** Integers in [-127, 127] held as float32 (activations that quantize to themselves at scale 1). */
export function integerFloats(dims: readonly number[], seed: number): Tensor {
  const t = randomTensor('int32', dims, seed, [-127, 127]);
  return { dtype: 'float32', dims, data: Float32Array.from(t.data) };
}

/** Integer int8 weights packed as they are, with unit scales: the accumulator reaches the output unscaled. */
export function integerWeights(n: number, k: number, seed: number): { w: Tensor; wscale: Tensor; values: Int32Array } {
  const values = randomTensor('int32', [n, k], seed, [-127, 127]).data as Int32Array;
  const packed = packInt8Rows(values, n, k);
  return {
    w: { dtype: 'int32', dims: [n, packed.length / n], data: packed },
    wscale: { dtype: 'float32', dims: [n], data: new Float32Array(n).fill(1) },
    values,
  };
}

/** The op on WebGPU, the CPU and the reference, in that order. */
export async function runEverywhere(opType: string, inputs: readonly (Tensor | undefined)[], attrs: Attrs, options: RunOpOptions = Q_OPTIONS): Promise<Tensor[]> {
  const backends: TestBackend[] = [...KERNEL_BACKENDS, 'reference'];
  return Promise.all(backends.map(async (b) => (await runOp(b, opType, inputs, attrs, options))[0]!));
}

/**
 * The op on WebGPU with the plan given only `features` (an empty set forces the portable shaders);
 * only input 0 may be fed, the others must be constants in `options`.
 */
export async function runGpuWithFeatures(opType: string, inputs: readonly (Tensor | undefined)[], attrs: Attrs, features: ReadonlySet<string>, options: RunOpOptions = Q_OPTIONS): Promise<Tensor> {
  const model: Model = oneNodeModel(opType, inputs, attrs, options);
  const exe = await GpuExecutable.create({ ...(await testDevice()), wgslFeatures: features }, planModel(model));
  try {
    const { outputs } = await exe.run(new Map([['x0', inputs[0]!]]));
    return outputs.get('y0')!;
  } finally {
    exe.dispose();
  }
}

/** A QMatMul-like problem: batch dims of A, K, N, bias, activation scale (0: dynamic per row), fused activation. */
export interface Case {
  readonly batch: number[];
  readonly k: number;
  readonly n: number;
  readonly bias: boolean;
  readonly actScale: number;
  readonly act?: string;
}

/** Random cases up to `maxK` (the op tests' shapes: odd K and N, M = 1, batch dims). */
export const caseArb = (maxK: number, maxBatch: number) => fc.record({
  batch: fc.oneof(fc.constant<number[]>([1]), fc.array(fc.integer({ min: 1, max: maxBatch }), { minLength: 0, maxLength: 2 })),
  k: fc.integer({ min: 1, max: maxK }),
  n: fc.integer({ min: 1, max: 37 }),
  bias: fc.boolean(),
  // 0: the dynamic per-row scale.
  actScale: fc.constantFrom(0, 0.015, 0.02),
  act: fc.constantFrom(undefined, 'Relu', 'Sigmoid', 'Gelu'),
});

export function attrsOf(c: Case): Attrs {
  return { k: c.k, ...(c.actScale ? { act_scale: c.actScale } : {}), ...(c.act ? { _activation: c.act, _alpha: 0, _beta: 0 } : {}) };
}

/** The exact int32 accumulators of integer activations and weights, as floats (all below 2^24). */
export function integerProduct(a: Tensor, w: ArrayLike<number>, m: number, n: number, k: number): Float32Array {
  const out = new Float32Array(m * n);
  for (let r = 0; r < m; r++) {
    for (let c = 0; c < n; c++) {
      let acc = 0;
      for (let p = 0; p < k; p++) acc += a.data[r * k + p]! * w[c * k + p]!;
      out[r * n + c] = acc;
    }
  }
  return out;
}
