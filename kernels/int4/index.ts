import type { Tensor } from '../../core/tensor.js';
import type { OpDef } from '../op.js';
import { activateAll } from '../matmul/epilogue.js';
import { q4CpuPlan } from './cpu.js';
import { q4Geometry } from './geometry.js';
import { q4GpuPlan } from './gpu.js';
import { unpackInt4Blocks } from './pack.js';
import { q4FloatReference, q4Int8Reference } from './reference.js';
import { scaleTable } from './scales.js';

/**
 * Q4MatMul (domain com.tessera): A [..., K] times int4 block-quantized W [N, K] (groups of 32
 * along K, a scale each, optional zero points; docs/compressed-formats.md), plus bias and a fused
 * activation, with float activations or int8 ones quantized as QMatMul's. Kernels: q4matmul.wgsl /
 * q4matmul.c (float), q4gemv-i8.wgsl / q4gemm-i8.wgsl / q4matmul-i8.c (int8), planned by gpu.ts and cpu.ts.
 */

function reference(inputs: readonly (Tensor | undefined)[], node: Parameters<OpDef['reference']>[1]['node']): Tensor[] {
  const g = q4Geometry(inputs, node);
  const [a, w, scales, zp, bias] = inputs as [Tensor, Tensor, Tensor, Tensor | undefined, Tensor | undefined];
  const weights = unpackInt4Blocks(w.data, zp?.data, g.n, g.k);
  const sc = scaleTable(scales, g);
  const data = (g.int8 ? q4Int8Reference : q4FloatReference)(a.data, weights, sc, bias?.data, g);
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
