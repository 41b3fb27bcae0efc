import { isOnnxDomain } from '../ir/domains.js';
import { RESIDUAL_INPUT } from '../../kernels/conv/geometry.js';
import { merged, PatternIndex } from './patterns.js';
import type { PlannedNode } from './plan.js';

/**
 * Conv → Add(conv, skip), either operand order, becomes one Conv that adds `skip` in its kernels'
 * epilogue (input RESIDUAL_INPUT): the residual block of ResNet-style nets, after every pointwise
 * conv in BlazeFace, where the separate Add (and the Relu after it) were whole passes over memory.
 * fuseActivations runs after this and folds that Relu in too, so the node computes
 * act(conv + bias + skip), the unfused graph's order.
 *
 * Only when `skip` has exactly the conv output's shape and dtype (the kernels read it at the
 * output's own index, no broadcasting) and the conv output is read by the Add alone and is no graph
 * output. The fused node takes the Add's place in the plan: `skip`, an input of the Add, is
 * computed by then wherever it comes from, and so are the conv's inputs, which preceded the conv.
 * A pair straddling an If-branch boundary is left alone (PatternIndex.replace).
 */
export function fuseResidualAdds(nodes: readonly PlannedNode[], graphOutputs: ReadonlySet<string>): PlannedNode[] {
  const index = new PatternIndex(nodes, graphOutputs);
  for (const add of nodes) {
    if (add.node.opType !== 'Add' || !isOnnxDomain(add.node.domain) || add.outputs[0]?.dtype !== 'float32') continue;
    for (const side of [0, 1]) {
      const conv = residualHost(index, add, side);
      if (!conv) continue;
      const [x, w, b] = conv.node.inputs;
      // No bias reads as '' so the skip stays at RESIDUAL_INPUT.
      const inputs = [x!, w!, b ?? '', add.node.inputs[1 - side]!];
      const values = [conv.inputs[0], conv.inputs[1], conv.inputs[2], add.inputs[1 - side]];
      index.replace([conv], add, merged(conv, add, inputs, values));
      break;
    }
  }
  return index.nodes();
}

/** The plain ONNX Conv whose output is the Add's input `side`, if the other input fits as its residual. */
function residualHost(index: PatternIndex, add: PlannedNode, side: number): PlannedNode | undefined {
  const conv = index.producedBy(add.node.inputs[side], 'Conv');
  const skip = add.inputs[1 - side];
  const out = conv?.outputs[0];
  // More than X, W, B: already fused (a second Add after a fused one stays an Add).
  if (!conv || !out || !isOnnxDomain(conv.node.domain) || conv.node.inputs.length > RESIDUAL_INPUT) return undefined;
  return skip?.dtype === out.dtype && skip.dims.join() === out.dims.join() ? conv : undefined;
}
