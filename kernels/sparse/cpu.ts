import type { Node } from '../../core/ir/graph.js';
import type { Tensor } from '../../core/tensor.js';
import type { CpuOpPlan } from '../op.js';
import type { QMatMulGeometry } from '../quant/geometry.js';
import { padChannels, pushScale } from '../quant/cpu.js';
import { Params } from '../wgsl.js';
import { CHANNEL_BLOCK, cpuGroups, packCpuLayout } from './cpu-layout.js';

/** CPU plan of SparseQMatMul (sparse-qmatmul.c): the weights re-laid-out once, here at load. */
export function sparseCpuPlan(g: QMatMulGeometry, values: Tensor, indices: Tensor, wscale: Tensor, bias: Tensor | undefined, node: Node): CpuOpPlan {
  const { m, n, k } = g;
  if (m * n === 0) return { kind: 'call', calls: [] };
  const groups = cpuGroups(k);
  const params = pushScale(new Params().u32s(m, n, k, groups), g.actScale, node);
  return {
    kind: 'call',
    calls: [{
      fn: 'sparse_qmatmul_i8',
      bindings: [{ input: 0 }, { constant: 0 }, { constant: 1 }, { constant: 2 }, { output: 0 }, { scratch: 0 }],
      uniforms: params.pack(),
    }],
    // One int16 row, every row as offset bytes, the row scales, 16 bytes the last row's vectors overrun.
    scratch: [groups * 4 * 2 + m * groups * 4 + m * 4 + 16],
    constants: [packCpuLayout(values, indices, n, k), padChannels(wscale, 1, n, CHANNEL_BLOCK), padChannels(bias, 1, n, CHANNEL_BLOCK)],
  };
}
