import type { Tensor } from '../../core/tensor.js';
import type { OpDef } from '../op.js';
import { activateAll } from '../matmul/epilogue.js';
import { q4CpuPlan } from './cpu.js';
import { q4Geometry } from './geometry.js';
import { q4GpuPlan } from './gpu.js';
import { GROUP, unpackInt4Blocks } from './pack.js';
import { scaleTable } from './scales.js';

/**
 * Q4MatMul (domain com.tessera): A [..., K] times int4 block-quantized W [N, K] (groups of 32
 * along K, a scale each, optional zero points; docs/compressed-formats.md), plus bias and a fused
 * activation. Kernels: q4matmul.wgsl (planned by gpu.ts) and q4matmul.c (cpu.ts).
 */

function reference(inputs: readonly (Tensor | undefined)[], node: Parameters<OpDef['reference']>[1]['node']): Tensor[] {
  const g = q4Geometry(inputs, node);
  const [a, w, scales, zp, bias] = inputs as [Tensor, Tensor, Tensor, Tensor | undefined, Tensor | undefined];
  const weights = unpackInt4Blocks(w.data, zp?.data, g.n, g.k);
  const sc = scaleTable(scales, g);
  const data = new Float32Array(g.m * g.n);
  for (let m = 0; m < g.m; m++) {
    for (let n = 0; n < g.n; n++) {
      let y = 0;
      for (let grp = 0; grp < g.groups; grp++) {
        let s = 0;
        for (let k = grp * GROUP; k < Math.min(g.k, (grp + 1) * GROUP); k++) s += weights[n * g.k + k]! * a.data[m * g.k + k]!;
        y += sc[n * g.groups + grp]! * s;
      }
      data[m * g.n + n] = y + (bias ? bias.data[n]! : 0);
    }
  }
  activateAll(node, data);
  return [{ dtype: 'float32', dims: g.out, data }];
}

const Q4MatMul: OpDef = {
  shape(inputs, { node }) {
    return [{ dtype: 'float32', dims: q4Geometry(inputs, node).out }];
  },
  reference: (inputs, { node }) => reference(inputs, node),
  webgpu: q4GpuPlan,
  cpu: q4CpuPlan,
};

export const int4Ops: Record<string, OpDef> = { Q4MatMul };
