import { isOnnxDomain, TESSERA_DOMAIN } from '../../ir/domains.js';
import { POOL2X2_ATTR } from '../../../kernels/quant/qconv.js';
import { windowAttrs, windowGeometry } from '../../../kernels/shared/pool-geometry.js';
import { PatternIndex } from '../patterns.js';
import type { ExecutionPlan, PlannedNode } from '../plan.js';

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
 * folds them), so the reference and the CPU, which run the pair (they don't know POOL2X2_ATTR),
 * agree with it; on the GPU it saves the pool's dispatch, which on a software adapter costs as
 * much as a small conv. The fused node takes the pool's place in the plan. A pair under If-branch
 * guards is left alone.
 */
export function fusePooledQConvs(plan: ExecutionPlan): ExecutionPlan {
  const index = new PatternIndex(plan.nodes, new Set(plan.outputs.map((o) => o.name)));
  for (const pool of plan.nodes) {
    const conv = index.producedBy(pool.node.inputs[0], 'QConv');
    if (!conv || conv.node.domain !== TESSERA_DOMAIN || conv.node.outputs.length !== 1) continue;
    if (conv.guards || pool.guards || !isPool2x2(pool, conv.outputs[0]!.dims)) continue;
    const { node } = conv;
    index.replace([conv], pool, {
      ...conv,
      node: { ...node, name: `${node.name}+${pool.node.name}`, outputs: [pool.node.outputs[0]!], attrs: { ...node.attrs, [POOL2X2_ATTR]: 1 } },
      outputs: pool.outputs,
    });
  }
  return { ...plan, nodes: index.nodes() };
}
