import type { Tensor } from '../../core/tensor.js';
import type { OpDef } from '../op.js';
import { activateAll } from '../matmul/epilogue.js';
import { q4CpuPlan } from './cpu.js';
import { q4Geometry } from './geometry.js';
import { q4GpuPlan } from './gpu.js';
import { Q4Conv } from './q4conv.js';
import { q4Product } from './reference.js';

/**
 * Q4MatMul (domain com.tessera): A [..., K] times int4 block-quantized W [N, K] (groups of 32
 * along K, a scale each, optional zero points; docs/compressed-formats.md), plus bias and a fused
 * activation, with float activations or int8 ones quantized as QMatMul's. Kernels: q4matmul.wgsl /
 * q4matmul.c (float), q4gemv-i8.wgsl / q4gemm-i8.wgsl / q4matmul-i8.c (int8), planned by gpu.ts and cpu.ts.
 * Q4Conv (q4conv.ts) runs the same kernels on a convolution's patch rows.
 */

function reference(inputs: readonly (Tensor | undefined)[], node: Parameters<OpDef['reference']>[1]['node']): Tensor[] {
  const g = q4Geometry(inputs, node);
  const data = q4Product(inputs[0]!.data, inputs.slice(1), g);
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

export const int4Ops: Record<string, OpDef> = { Q4MatMul, Q4Conv };
