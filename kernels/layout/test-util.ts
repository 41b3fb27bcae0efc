import fc from 'fast-check';
import { expect } from 'vitest';
import type { Attrs } from '../../core/ir/graph.js';
import { Session, type SessionReport } from '../../core/session.js';
import { tensor, type DType, type Tensor } from '../../core/tensor.js';
import { expectClose, oneNodeModel, randomTensor, runOp, testDevice, type RunOpOptions } from '../testing/harness.js';

/** Arbitraries and checks shared by the layout tests. */

export const dimsArb = (maxRank: number, minRank = 0, maxDim = 6): fc.Arbitrary<number[]> =>
  fc.array(fc.integer({ min: 1, max: maxDim }), { minLength: minRank, maxLength: maxRank });

export const dtypeArb: fc.Arbitrary<DType> = fc.constantFrom('float32', 'int64', 'bool', 'int32');

/** Random data of any dtype, with int values wide enough to catch a float round trip. */
export function data(dtype: DType, dims: readonly number[], seed: number): Tensor {
  return randomTensor(dtype, dims, seed, dtype === 'float32' ? [-3, 3] : [-100000, 100000]);
}

export const ints = (values: readonly number[], dims: readonly number[] = [values.length]): Tensor => tensor('int64', dims, values);
export const floats = (values: readonly number[], dims: readonly number[] = [values.length]): Tensor => tensor('float32', dims, values);

export const RUNS = { numRuns: 10 };

/** Runs on every backend and checks each against the expected values (ONNX documentation examples). */
export async function expectOp(
  opType: string,
  inputs: readonly (Tensor | undefined)[],
  attrs: Attrs,
  options: RunOpOptions,
  expected: readonly Tensor[],
): Promise<void> {
  for (const backend of ['webgpu', 'cpu', 'reference'] as const) {
    const got = await runOp(backend, opType, inputs, attrs, options);
    expected.forEach((e, i) => expectClose(got[i]!, e, { atol: 1e-5, rtol: 1e-5 }, backend));
  }
}

/** What loading the op on WebGPU did: dispatches per run (0 for views), nodes folded at load. */
export async function loadReport(opType: string, inputs: readonly Tensor[], attrs: Attrs, options: RunOpOptions = {}): Promise<SessionReport> {
  const session = await Session.load(oneNodeModel(opType, inputs, attrs, options), { backend: 'webgpu', device: (await testDevice()).device });
  try {
    return session.report();
  } finally {
    session.dispose();
  }
}

/** Load must fail with a ShapeError (or other TesseraError) whose message matches. */
export async function expectLoadError(opType: string, inputs: readonly (Tensor | undefined)[], attrs: Attrs, options: RunOpOptions, message: RegExp): Promise<void> {
  await expect(runOp('reference', opType, inputs, attrs, options)).rejects.toThrow(message);
}
