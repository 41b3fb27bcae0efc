import { activateAll } from '../matmul/epilogue.js';
import type { OpDef } from '../op.js';
import { packedWords, packInt8Rows } from '../quant/pack.js';
import { qmatmulReference } from '../quant/reference.js';
import { sparseCpuPlan } from './cpu.js';
import { checkSparseWeights, sparseGeometry } from './geometry.js';
import { sparseGpuPlan } from './gpu.js';

/**
 * SparseQMatMul (domain com.tessera): QMatMul with 2:4 structured sparse int8 weights, given as
 * `values` and `indices` (docs/compressed-formats.md). Activation quantization, accumulation and
 * epilogue are QMatMul's, so its reference is QMatMul's on the densified weights. The weights
 * must be known at load: both kernels read them re-laid-out, after their codes are checked.
 */
export const SparseQMatMul: OpDef = {
  constInputs: [1, 2, 3, 4],
  shape(inputs, { node }) {
    return [{ dtype: 'float32', dims: sparseGeometry(inputs, node.attrs).out }];
  },
  reference(inputs, { node }) {
    const g = sparseGeometry(inputs, node.attrs);
    const [a, values, indices, wscale, bias] = inputs;
    const dense = checkSparseWeights(values!, indices!, g);
    const w = packInt8Rows(dense, g.n, g.k);
    const data = qmatmulReference(a!, { dtype: 'int32', dims: [g.n, packedWords(g.k)], data: w }, wscale!, bias, g);
    activateAll(node, data);
    return [{ dtype: 'float32', dims: g.out, data }];
  },
  webgpu({ inputs, node, features }) {
    const g = sparseGeometry(inputs, node.attrs);
    checkSparseWeights(inputs[1]!.value!, inputs[2]!.value!, g);
    return sparseGpuPlan(g, inputs[1]!.value!, inputs[2]!.value!, node, features);
  },
  cpu({ inputs, node }) {
    const g = sparseGeometry(inputs, node.attrs);
    const [, values, indices, wscale, bias] = inputs;
    checkSparseWeights(values!.value!, indices!.value!, g);
    return sparseCpuPlan(g, values!.value!, indices!.value!, wscale!.value!, bias?.value, node);
  },
};

export const sparseOps: Record<string, OpDef> = { SparseQMatMul };

export { packSparse24Int8, prune24, unpackSparse24, type Sparse24Int8 } from './sparse24.js';
