import type { Attrs, Model, Node } from '../../core/ir/graph.js';
import { Session } from '../../core/session.js';
import type { Tensor } from '../../core/tensor.js';
import { opRegistry } from '../registry.js';
import { expectClose, runOp, testDevice, type RunOpOptions, type TestBackend } from '../testing/harness.js';

/**
 * A tiny model builder for the matmul/conv tests: a chain of nodes where each node's first input
 * is the previous node's output, so fused pairs (MatMul→Relu, Conv→BatchNormalization→Relu) can be
 * run through the real planner and compared on every backend.
 */

export interface ChainStep {
  readonly opType: string;
  /** Extra inputs after the chained one, held as initializers ('' for omitted optional inputs). */
  readonly weights?: readonly (Tensor | undefined)[];
  readonly attrs?: Attrs;
}

export function chainModel(input: Tensor, steps: readonly ChainStep[], opset = 17): Model {
  const initializers = new Map<string, Tensor>();
  let prev = 'x';
  const nodes: Node[] = steps.map((s, i) => {
    const extra = (s.weights ?? []).map((w, j) => {
      if (!w) return '';
      const name = `w${i}_${j}`;
      initializers.set(name, w);
      return name;
    });
    const node: Node = { name: `${s.opType}_${i}`, opType: s.opType, domain: '', inputs: [prev, ...extra], outputs: [`v${i}`], attrs: s.attrs ?? {} };
    prev = `v${i}`;
    return node;
  });
  return {
    opset,
    producer: 'tessera-test',
    graph: { nodes, inputs: [{ name: 'x', dtype: input.dtype, dims: input.dims }], outputs: [{ name: prev, dtype: 'float32', dims: [] }], initializers },
  };
}

export async function runModel(model: Model, input: Tensor, backend: TestBackend): Promise<Tensor> {
  const device = backend === 'webgpu' ? (await testDevice()).device : undefined;
  const session = await Session.load(model, { backend, device });
  try {
    const out = await session.run({ x: input });
    return out[model.graph.outputs[0]!.name]!;
  } finally {
    session.dispose();
  }
}

/**
 * Runs a chain on WebGPU and on the reference backend and checks they agree; on the CPU too once
 * every op of the chain has a CPU kernel (other families gain theirs independently).
 */
export async function checkChain(input: Tensor, steps: readonly ChainStep[], tol: { atol?: number; rtol?: number } = {}): Promise<Tensor> {
  const model = chainModel(input, steps);
  const onCpu = steps.every((s) => opRegistry[s.opType]?.cpu);
  const [gpu, cpu, ref] = await Promise.all([
    runModel(model, input, 'webgpu'), onCpu ? runModel(model, input, 'cpu') : undefined, runModel(model, input, 'reference'),
  ]);
  expectClose(gpu, ref, tol, 'webgpu');
  if (cpu) expectClose(cpu, ref, tol, 'cpu');
  return ref;
}

/** One op on the CPU kernels against the reference only (for CPU-specific edge cases). */
export async function checkCpu(
  op: string, inputs: readonly (Tensor | undefined)[], attrs: Attrs = {}, options: RunOpOptions & { atol?: number; rtol?: number } = {},
): Promise<void> {
  const [cpu, ref] = await Promise.all([runOp('cpu', op, inputs, attrs, options), runOp('reference', op, inputs, attrs, options)]);
  ref.forEach((r, i) => expectClose(cpu[i]!, r, { atol: options.atol ?? 1e-4, rtol: options.rtol ?? 1e-4 }, `cpu ${op}`));
}
