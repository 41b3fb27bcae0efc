import { expect } from 'vitest';
import type { Attrs, Model, Node } from '../../core/ir/graph.js';
import { acquireDevice, type AcquiredDevice } from '../../core/gpu/device.js';
import { Session } from '../../core/session.js';
import { sizeOf, type DType, type Tensor } from '../../core/tensor.js';

/**
 * Test harness shared by every kernel test: runs one operator as a one-node model through the real
 * Session on WebGPU, the CPU (wasm) kernels or the reference, with chosen inputs held as load-time
 * constants.
 * There is no skip: without an adapter acquireDevice throws NoAdapterError saying how to get one.
 */

let shared: Promise<AcquiredDevice> | undefined;

export function testDevice(): Promise<AcquiredDevice> {
  shared ??= acquireDevice();
  return shared;
}

export interface RunOpOptions {
  readonly opset?: number;
  /** Input indices baked into the model as initializers (weights, shapes, axes). */
  readonly constInputs?: readonly number[];
  readonly outputs?: number;
  /** The node's operator domain ('' for ONNX). */
  readonly domain?: string;
}

export function oneNodeModel(opType: string, inputs: readonly (Tensor | undefined)[], attrs: Attrs, options: RunOpOptions = {}): Model {
  const constSet = new Set(options.constInputs ?? []);
  const initializers = new Map<string, Tensor>();
  const graphInputs: Model['graph']['inputs'][number][] = [];
  const names = inputs.map((t, i) => {
    if (!t) return '';
    const name = `x${i}`;
    if (constSet.has(i)) initializers.set(name, t);
    else graphInputs.push({ name, dtype: t.dtype, dims: t.dims });
    return name;
  });
  const outputs = Array.from({ length: options.outputs ?? 1 }, (_, i) => `y${i}`);
  const node: Node = { name: `${opType}_under_test`, opType, domain: options.domain ?? '', inputs: names, outputs, attrs };
  return {
    opset: options.opset ?? 17,
    producer: 'tessera-test',
    graph: { nodes: [node], inputs: graphInputs, outputs: outputs.map((name) => ({ name, dtype: 'float32', dims: [] })), initializers },
  };
}

export type TestBackend = 'webgpu' | 'cpu' | 'reference';
/** The backends with kernels of their own, each checked against the reference. */
export const KERNEL_BACKENDS = ['webgpu', 'cpu'] as const;

export async function runOp(
  backend: TestBackend,
  opType: string,
  inputs: readonly (Tensor | undefined)[],
  attrs: Attrs = {},
  options: RunOpOptions = {},
): Promise<Tensor[]> {
  const model = oneNodeModel(opType, inputs, attrs, options);
  const device = backend === 'webgpu' ? (await testDevice()).device : undefined;
  const session = await Session.load(model, { backend, device });
  try {
    const feeds = Object.fromEntries(model.graph.inputs.map((i) => [i.name, inputs[Number(i.name.slice(1))]!]));
    const out = await session.run(feeds);
    return model.graph.outputs.map((o) => out[o.name]!);
  } finally {
    session.dispose();
  }
}

/** Runs the op on WebGPU, on the CPU and on the reference and checks each kernel agrees. */
export async function checkOp(
  opType: string,
  inputs: readonly (Tensor | undefined)[],
  attrs: Attrs = {},
  options: RunOpOptions & { atol?: number; rtol?: number } = {},
): Promise<void> {
  const [gpu, cpu, ref] = await Promise.all([
    runOp('webgpu', opType, inputs, attrs, options),
    runOp('cpu', opType, inputs, attrs, options),
    runOp('reference', opType, inputs, attrs, options),
  ]);
  ref.forEach((r, i) => {
    expectClose(gpu[i]!, r, options, 'webgpu');
    expectClose(cpu[i]!, r, options, 'cpu');
  });
}

export function maxError(actual: Tensor, expected: Tensor): { abs: number; rel: number } {
  let abs = 0;
  let rel = 0;
  for (let i = 0; i < expected.data.length; i++) {
    const a = actual.data[i]!;
    const e = expected.data[i]!;
    if (Number.isNaN(e) && Number.isNaN(a)) continue;
    if (e === a) continue;
    const d = Math.abs(a - e);
    abs = Math.max(abs, Number.isNaN(d) ? Infinity : d);
    rel = Math.max(rel, d / Math.max(Math.abs(e), 1e-30));
  }
  return { abs, rel };
}

/** Same dims and dtype; every element within atol + rtol·|expected| (exact for integers and bools). */
export function expectClose(actual: Tensor, expected: Tensor, tol: { atol?: number; rtol?: number } = {}, backend = ''): void {
  expect([...actual.dims], `${backend} dims`).toEqual([...expected.dims]);
  expect(actual.dtype, `${backend} dtype`).toBe(expected.dtype);
  const exact = expected.dtype !== 'float32';
  const atol = exact ? 0 : tol.atol ?? 1e-4;
  const rtol = exact ? 0 : tol.rtol ?? 1e-4;
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < expected.data.length; i++) {
    const a = actual.data[i]!;
    const e = expected.data[i]!;
    if (Number.isNaN(e) ? Number.isNaN(a) : a === e) continue;
    const excess = Math.abs(a - e) - (atol + rtol * Math.abs(e));
    if (!(excess <= 0) && (worst < 0 || excess > worstExcess || Number.isNaN(excess))) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    const { abs, rel } = maxError(actual, expected);
    expect.fail(`${backend ? `${backend}: ` : ''}element ${worst}: got ${actual.data[worst]}, expected ${expected.data[worst]} (max abs err ${abs}, max rel err ${rel}, dims [${expected.dims.join(', ')}])`);
  }
}

/** Deterministic pseudo-random data (mulberry32), so a failing fast-check seed replays exactly. */
export function randomTensor(dtype: DType, dims: readonly number[], seed: number, range: [number, number] = [-2, 2]): Tensor {
  let s = seed >>> 0;
  const next = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const n = sizeOf(dims);
  const [lo, hi] = range;
  if (dtype === 'float32') return { dtype, dims, data: Float32Array.from({ length: n }, () => lo + (hi - lo) * next()) };
  if (dtype === 'bool') return { dtype, dims, data: Uint8Array.from({ length: n }, () => (next() < 0.5 ? 1 : 0)) };
  return { dtype, dims, data: Int32Array.from({ length: n }, () => Math.floor(lo + (hi - lo + 1) * next())) };
}

/** Runs a whole model on each kernel backend and compares one output with `expected` (e.g. a fused pair against the reference). */
export async function expectModelOnBackends(
  model: Model,
  feeds: Readonly<Record<string, Tensor>>,
  output: string,
  expected: Tensor,
  tol: { atol?: number; rtol?: number },
): Promise<void> {
  for (const backend of KERNEL_BACKENDS) {
    const session = await Session.load(model, { backend, device: backend === 'webgpu' ? (await testDevice()).device : undefined });
    try {
      expectClose((await session.run(feeds))[output]!, expected, tol, backend);
    } finally {
      session.dispose();
    }
  }
}
