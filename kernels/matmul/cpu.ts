import type { Node } from '../../core/ir/graph.js';
import { fusedActivation } from '../../core/runtime/fuse.js';
import type { Tensor } from '../../core/tensor.js';
import type { BindingRef, CpuOpPlan } from '../op.js';
import { Params, type Activation } from '../wgsl.js';

/**
 * Planning for the CPU GEMM (gemm.c over gemm-core.h): B packed into 8-column panels at load, the
 * uniform block, the fused-activation encoding the conv kernels share.
 */

/** Codes of gemm-core.h's ACT_* enum. */
const ACTIVATION_CODES: Record<Activation['kind'], number> = {
  Relu: 1, LeakyRelu: 2, Clip: 3, Sigmoid: 4, HardSigmoid: 5, HardSwish: 6, Tanh: 7, Gelu: 8,
};

/** Appends gemm-core.h's `Act` (kind, alpha, beta) with the reference's defaults filled in. */
export function pushActivation(params: Params, node: Node): Params {
  const act = fusedActivation(node);
  if (!act) return params.u32s(0).f32s(0, 0);
  const defaults: Partial<Record<Activation['kind'], [number, number]>> = {
    LeakyRelu: [0.01, 0], Clip: [-Infinity, Infinity], HardSigmoid: [0.2, 0.5],
  };
  const [a, b] = defaults[act.kind] ?? [0, 0];
  return params.u32s(ACTIVATION_CODES[act.kind]).f32s(act.alpha ?? a, act.beta ?? b);
}

/** Floats in one K x N matrix packed as [ceil(N/8)][K][8]. */
export const panelSize = (k: number, n: number): number => Math.ceil(n / 8) * 8 * k;

/**
 * Packs `count` K x N matrices, each read as src[base + k*sk + n*sn] with base = i * matrixStride,
 * into consecutive panel layouts (zero-padded to whole panels), the B form gemm_core reads.
 */
export function packPanels(src: Float32Array | Int32Array | Uint8Array, count: number, matrixStride: number, k: number, n: number, sk: number, sn: number): Tensor {
  const size = panelSize(k, n);
  const data = new Float32Array(count * size);
  for (let i = 0; i < count; i++) {
    for (let j = 0; j < n; j++) {
      const base = i * size + Math.floor(j / 8) * 8 * k + (j % 8);
      for (let p = 0; p < k; p++) data[base + p * 8] = src[i * matrixStride + p * sk + j * sn]!;
    }
  }
  return { dtype: 'float32', dims: [data.length], data };
}

/**
 * Output columns per block when B is packed at run time (im2col included): K x nc floats ≈ 64 KiB,
 * so the block is still in L1/L2 when multiplied (3-5% faster than 256 KiB on the target convs).
 */
export function columnBlock(k: number, n: number): number {
  return Math.max(8, Math.min(Math.ceil(n / 8) * 8, Math.floor(16384 / Math.max(k, 1) / 8) * 8));
}

export interface CpuBatchDim {
  readonly dim: number;
  readonly a: number;
  readonly b: number;
  readonly out: number;
  readonly c: number;
}

/** A problem for matmul_f32 (see gemm.c); strides in elements, B's in packed floats when `packed`. */
export interface CpuGemmSpec {
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly a: { readonly ref: BindingRef; readonly sm: number; readonly sk: number };
  readonly b: { readonly ref: BindingRef; readonly packed: true } | { readonly ref: BindingRef; readonly packed: false; readonly sk: number; readonly sn: number };
  readonly c?: { readonly ref: BindingRef; readonly sm: number; readonly sn: number; readonly beta: number };
  readonly alpha?: number;
  readonly batch: readonly CpuBatchDim[];
  readonly node: Node;
  readonly constants?: readonly Tensor[];
}

export function cpuGemmPlan(spec: CpuGemmSpec): CpuOpPlan {
  const { m, n, k, b, c } = spec;
  if (m * n === 0 || spec.batch.some((d) => d.dim === 0)) return { kind: 'call', calls: [] };
  // b_mode 0: packed at load; 1: packed a column block at a time at run time.
  const mode = b.packed ? 0 : 1;
  const nc = mode === 1 ? columnBlock(k, n) : 0;
  const params = new Params()
    .u32s(m, n, k, mode)
    .i32s(spec.a.sm, spec.a.sk, b.packed ? 0 : b.sk, b.packed ? 0 : b.sn)
    .u32s(c ? 1 : 0)
    .i32s(c?.sm ?? 0, c?.sn ?? 0)
    .f32s(spec.alpha ?? 1, c?.beta ?? 0)
    .u32s(nc);
  pushActivation(params, spec.node).u32s(spec.batch.length);
  for (const d of spec.batch) params.u32s(d.dim).i32s(d.a, d.b, d.out, d.c);
  const scratch = mode === 0 ? 4 : 4 * k * nc;
  return {
    kind: 'call',
    calls: [{ fn: 'matmul_f32', bindings: [spec.a.ref, b.ref, c?.ref ?? { output: 0 }, { output: 0 }, { scratch: 0 }], uniforms: params.pack() }],
    scratch: [scratch],
    constants: spec.constants,
  };
}
