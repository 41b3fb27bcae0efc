import type { Node } from '../../core/ir/graph.js';
import type { Tensor } from '../../core/tensor.js';
import { pushActivation } from '../matmul/cpu.js';
import type { CpuOpPlan } from '../op.js';
import { Params } from '../wgsl.js';
import { BLOCK_COLS, type BlockSparseGeometry } from './format.js';

/**
 * CPU plan of BlockSparseMatMul (blocksparse-matmul.c): the bundle's blocks are read as they are;
 * `bias` comes padded to whole row groups (zeros when absent), as WebGPU takes it.
 * Scratch: A's row (M = 1) or A in panels of 8 rows (M > 1), whole K-blocks, zero past K and M.
 */
export function blockSparseCpuPlan(g: BlockSparseGeometry, node: Node, bias: Tensor): CpuOpPlan {
  if (g.m * g.n === 0) return { kind: 'call', calls: [] };
  const kp = g.kBlocks * BLOCK_COLS;
  const params = pushActivation(new Params().u32s(g.m, g.n, g.k, g.groups, kp), node);
  return {
    kind: 'call',
    calls: [{
      fn: 'blocksparse_matmul_f32',
      bindings: [{ input: 0 }, { input: 1 }, { input: 2 }, { input: 3 }, { constant: 0 }, { output: 0 }, { scratch: 0 }],
      uniforms: params.pack(),
    }],
    scratch: [(g.m === 1 ? 1 : Math.ceil(g.m / 8) * 8) * kp * 4],
    constants: [bias],
  };
}
