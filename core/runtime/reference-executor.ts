import type { Tensor } from '../tensor.js';
import type { ExecutionPlan } from './plan.js';

/** Runs a plan with the reference kernels: the oracle the other backends are tested against. */
export function runReference(plan: ExecutionPlan, feeds: ReadonlyMap<string, Tensor>): Map<string, Tensor> {
  const values = new Map<string, Tensor>([...plan.constants, ...feeds]);
  for (const p of plan.nodes) {
    const inputs = p.node.inputs.map((name) => (name ? values.get(name) : undefined));
    const outs = p.def.reference(inputs, { node: p.node, opset: plan.opset });
    p.node.outputs.forEach((name, i) => {
      const t = outs[i];
      if (name && t) values.set(name, t.dims === p.outputs[i]!.dims ? t : { ...t, dims: p.outputs[i]!.dims });
    });
  }
  return new Map(plan.outputs.map((o) => [o.name, values.get(o.name)!]));
}
