import type { Node } from '../../core/ir/graph.js';
import type { Tensor } from '../../core/tensor.js';
import { nodeActivationFn } from '../matmul/epilogue.js';
import type { GpuOpPlan } from '../op.js';
import { paramsDecl, Params, storageDecl } from '../wgsl.js';
import src from './blocksparse-matmul.wgsl';
import type { BlockSparseGeometry } from './format.js';

/** WebGPU plan of BlockSparseMatMul (blocksparse-matmul.wgsl): one dispatch over the bundle's blocks as they are; `bias` padded to whole row groups. */
export function blockSparseGpuPlan(g: BlockSparseGeometry, node: Node, bias: Tensor): GpuOpPlan {
  if (g.m * g.n === 0) return { kind: 'dispatch', programs: [] };
  const params = new Params().u32s(g.m, g.n, g.k, g.groups);
  const code = `${storageDecl('a', 0, 'f32')}
${storageDecl('values', 1, 'vec4f')}
${storageDecl('block_cols', 2, 'i32')}
${storageDecl('row_ptr', 3, 'i32')}
${storageDecl('bias', 4, 'f32')}
${storageDecl('out', 5, 'f32', 'read_write')}
${paramsDecl(6, params.length)}
${nodeActivationFn(node)}
${src}`;
  return {
    kind: 'dispatch',
    programs: [{
      code,
      workgroups: [Math.ceil(g.groups / 16), g.m, 1],
      bindings: [{ input: 0 }, { input: 1 }, { input: 2 }, { input: 3 }, { constant: 0 }, { output: 0 }],
      uniforms: params.pack(),
    }],
    constants: [bias],
  };
}
