import { isOnnxDomain, TESSERA_DOMAIN } from '../../core/ir/domains.js';
import type { ExecutionPlan, PlannedNode } from '../../core/runtime/plan.js';
import { windowAttrs, windowGeometry } from '../shared/pool-geometry.js';

/** The attribute that tells QConv's WebGPU kernel to pool its output (see qgemm-common.wgsl). */
export const POOL2X2_ATTR = '_pool2x2';

/** A MaxPool that takes exact 2x2 windows 2 apart from `dims` (NCHW), no padding, one output. */
function isPool2x2(pool: PlannedNode, dims: readonly number[]): boolean {
  const { node } = pool;
  if (!isOnnxDomain(node.domain) || node.opType !== 'MaxPool' || node.outputs.filter(Boolean).length !== 1 || dims.length !== 4) return false;
  const spatial = dims.slice(2);
  const w = windowAttrs(node.attrs, 2);
  const g = windowGeometry(spatial, w);
  const two = (xs: readonly number[], v: number): boolean => xs.every((x) => x === v);
  return two(w.kernel, 2) && two(w.strides, 2) && two(w.dilations, 1) && two(g.padsBegin, 0) && spatial.every((s, i) => s % 2 === 0 && g.out[i] === s / 2);
}

/**
 * WebGPU only: a QConv whose output only a 2x2 stride-2 MaxPool reads becomes one node that
 * writes the pooled output, its GEMM rows ordered by window and maxed in the epilogue. The values
 * are those of the QConv then the MaxPool, bit for bit (the same floats, folded as pool.wgsl
 * folds them), so the reference and the CPU, which run the pair, agree with it; on the GPU it saves
 * the pool's dispatch, which on a software adapter costs as much as a small conv.
 */
export function fusePooledQConvs(plan: ExecutionPlan): ExecutionPlan {
  const readers = new Map<string, number[]>();
  plan.nodes.forEach((p, i) => p.node.inputs.forEach((name) => name && readers.set(name, [...(readers.get(name) ?? []), i])));
  const graphOutputs = new Set(plan.outputs.map((o) => o.name));
  const nodes: (PlannedNode | undefined)[] = [...plan.nodes];
  plan.nodes.forEach((conv, i) => {
    const { node } = conv;
    const out = node.outputs[0]!;
    const reads = readers.get(out) ?? [];
    if (node.domain !== TESSERA_DOMAIN || node.opType !== 'QConv' || node.outputs.length !== 1 || graphOutputs.has(out) || reads.length !== 1) return;
    const pool = plan.nodes[reads[0]!]!;
    if (conv.guards || pool.guards || !isPool2x2(pool, conv.outputs[0]!.dims)) return;
    nodes[i] = {
      ...conv,
      node: { ...node, name: `${node.name}+${pool.node.name}`, outputs: [pool.node.outputs[0]!], attrs: { ...node.attrs, [POOL2X2_ATTR]: 1 } },
      outputs: pool.outputs,
    };
    nodes[reads[0]!] = undefined;
  });
  return { ...plan, nodes: nodes.filter((p): p is PlannedNode => p !== undefined) };
}
