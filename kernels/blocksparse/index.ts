import { activateAll } from '../matmul/epilogue.js';
import type { OpDef } from '../op.js';
import { blockSparseCpuPlan } from './cpu.js';
import { padChannels } from '../quant/cpu.js';
import { BLOCK_ROWS, blockSparseGeometry, checkBlockSparse } from './format.js';
import { blockSparseGpuPlan } from './gpu.js';

/**
 * BlockSparseMatMul (domain com.tessera): `y = act(A · Wᵀ + bias)` with float32 weights stored
 * block-sparse, 4 channels × 16 along K per block (docs/compressed-formats.md). Written by
 * `tessera prune --sparsity block` for dense layers; the reference multiplies the dense matrix
 * the blocks stand for. Weights must be known at load, where their structure is checked.
 */

export const BlockSparseMatMul: OpDef = {
  constInputs: [1, 2, 3, 4],
  shape(inputs, { node }) {
    return [{ dtype: 'float32', dims: blockSparseGeometry(inputs, node.attrs).out }];
  },
  reference(inputs, { node }) {
    const g = blockSparseGeometry(inputs, node.attrs);
    const [a, values, blockCols, rowPtr, bias] = inputs;
    const w = checkBlockSparse(values!, blockCols!, rowPtr!, g);
    const data = new Float32Array(g.m * g.n);
    for (let r = 0; r < g.m; r++) {
      for (let c = 0; c < g.n; c++) {
        let s = 0;
        for (let p = 0; p < g.k; p++) s += a!.data[r * g.k + p]! * w[c * g.k + p]!;
        data[r * g.n + c] = s + (bias ? bias.data[c]! : 0);
      }
    }
    activateAll(node, data);
    return [{ dtype: 'float32', dims: g.out, data }];
  },
  webgpu({ inputs, node }) {
    const g = blockSparseGeometry(inputs, node.attrs);
    checkBlockSparse(inputs[1]!.value!, inputs[2]!.value!, inputs[3]!.value!, g);
    return blockSparseGpuPlan(g, node, padChannels(inputs[4]?.value, 1, g.n, BLOCK_ROWS));
  },
  cpu({ inputs, node }) {
    const g = blockSparseGeometry(inputs, node.attrs);
    checkBlockSparse(inputs[1]!.value!, inputs[2]!.value!, inputs[3]!.value!, g);
    return blockSparseCpuPlan(g, node, padChannels(inputs[4]?.value, 1, g.n, BLOCK_ROWS));
  },
};

export const blockSparseOps: Record<string, OpDef> = { BlockSparseMatMul };

export { BLOCK_COLS, BLOCK_ROWS, packBlockSparse, type BlockSparse } from './format.js';
