import fc from 'fast-check';
import { expect } from 'vitest';
import type { Attrs } from '../../core/ir/graph.js';
import { planModel } from '../../core/runtime/plan.js';
import type { Tensor } from '../../core/tensor.js';
import { runModel } from '../matmul/test-models.js';
import { TESSERA_DOMAIN } from '../registry.js';
import { expectClose, oneNodeModel, randomTensor } from '../testing/harness.js';
import { quantizeInt4Blocks, type ScaleDtype } from './pack.js';

/** Shared by the Q4MatMul and Q4Conv tests: cases, their inputs, the run options, the fusion check. */

export interface Case {
  readonly batch: readonly number[];
  readonly m: number;
  readonly k: number;
  readonly n: number;
  readonly zeroPoint: boolean;
  readonly scaleDtype: ScaleDtype;
  readonly bias: boolean;
  readonly seed: number;
}

/** Inputs for one case, the weights already quantized; inputs 1-4 are held as initializers. */
export function q4Inputs(c: Case): (Tensor | undefined)[] {
  const q = quantizeInt4Blocks(randomTensor('float32', [c.n, c.k], c.seed + 1), { zeroPoint: c.zeroPoint, scaleDtype: c.scaleDtype });
  return [
    randomTensor('float32', [...c.batch, c.m, c.k], c.seed),
    q.packed, q.scales, q.zeroPoints,
    c.bias ? randomTensor('float32', [c.n], c.seed + 2) : undefined,
  ];
}

export const CONSTS = { constInputs: [1, 2, 3, 4], domain: TESSERA_DOMAIN };

export const caseArb = fc.record({
  batch: fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }),
  m: fc.integer({ min: 1, max: 9 }),
  k: fc.integer({ min: 1, max: 150 }),
  n: fc.integer({ min: 1, max: 70 }),
  zeroPoint: fc.boolean(),
  scaleDtype: fc.constantFrom<ScaleDtype>('float32', 'float16'),
  bias: fc.boolean(),
  seed: fc.nat(),
});

/**
 * `opType` on `inputs` (weights as constants) followed by a Relu: the fusion pass must fold the
 * Relu into it, and the fused node must agree with the reference on both kernel backends.
 */
export async function checkFusedRelu(opType: string, inputs: readonly (Tensor | undefined)[], attrs: Attrs, tol: { atol: number; rtol: number }): Promise<void> {
  const one = oneNodeModel(opType, inputs, attrs, CONSTS);
  const node = one.graph.nodes[0]!;
  const model = {
    ...one,
    graph: {
      ...one.graph,
      inputs: [{ ...one.graph.inputs[0]!, name: 'x' }],
      nodes: [{ ...node, inputs: ['x', ...node.inputs.slice(1)], outputs: ['q'] }, { name: 'relu', opType: 'Relu', domain: '', inputs: ['q'], outputs: ['y0'], attrs: {} }],
    },
  };
  expect(planModel(model).nodes.map((p) => [p.node.opType, p.node.attrs._activation])).toEqual([[opType, 'Relu']]);
  const x = inputs[0]!;
  const [gpu, cpu, ref] = await Promise.all([runModel(model, x, 'webgpu'), runModel(model, x, 'cpu'), runModel(model, x, 'reference')]);
  expect(Math.min(...ref.data)).toBe(0);
  expectClose(gpu, ref, tol, 'webgpu');
  expectClose(cpu, ref, tol, 'cpu');
}
