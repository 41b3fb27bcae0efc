import { ShapeError } from '../../core/errors.js';
import { attrFloat, attrInt, type Attrs } from '../../core/ir/graph.js';
import { sizeOf, type Tensor } from '../../core/tensor.js';
import type { KnownValue, OpDef } from '../op.js';
import { broadcastDims, broadcastStrides } from '../shared/broadcast.js';
import { cpuGemmPlan, packPanels, panelSize } from './cpu.js';
import { activateAll, nodeActivationFn } from './epilogue.js';
import { gemmProgram, type BatchDim } from './gemm.js';

/**
 * MatMul (numpy semantics: 1-D operands promoted and the added axis dropped again, batch dims
 * broadcast) and Gemm (transA/transB, alpha, beta, C broadcast to [M, N]). Both lower to the one
 * strided batched GEMM kernel (gemm.wgsl; on the CPU gemm.c, planned by cpu.ts, whose core
 * gemm-core.h the conv kernels share). A fused MatMul may carry a third input: a bias along N (see
 * core/runtime/fold-batchnorm.ts, which folds MatMul→Add into it).
 */

interface MatMulGeometry {
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly batch: number[];
  readonly out: number[];
  readonly aBatch: readonly number[];
  readonly bBatch: readonly number[];
}

function matmulGeometry(a: readonly number[], b: readonly number[]): MatMulGeometry {
  if (a.length === 0 || b.length === 0) throw new ShapeError('MatMul operands must have rank ≥ 1, got a scalar');
  const a2 = a.length === 1 ? [1, a[0]!] : a;
  const b2 = b.length === 1 ? [b[0]!, 1] : b;
  const m = a2[a2.length - 2]!;
  const k = a2[a2.length - 1]!;
  const kb = b2[b2.length - 2]!;
  const n = b2[b2.length - 1]!;
  if (k !== kb) throw new ShapeError(`MatMul inner dims differ: [${a.join(', ')}] × [${b.join(', ')}] (${k} vs ${kb})`);
  const aBatch = a2.slice(0, -2);
  const bBatch = b2.slice(0, -2);
  const batch = broadcastDims([aBatch, bBatch]);
  const out = [...batch, ...(a.length === 1 ? [] : [m]), ...(b.length === 1 ? [] : [n])];
  return { m, n, k, batch, out, aBatch, bBatch };
}

function checkBias(bias: readonly number[] | undefined, n: number): void {
  if (bias && sizeOf(bias) !== n) throw new ShapeError(`MatMul bias must have ${n} elements, got [${bias.join(', ')}]`);
}

const MatMul: OpDef = {
  shape([a, b, bias]) {
    const g = matmulGeometry(a!.dims, b!.dims);
    checkBias(bias?.dims, g.n);
    return [{ dtype: 'float32', dims: g.out }];
  },
  reference([a, b, bias], { node }) {
    const g = matmulGeometry(a!.dims, b!.dims);
    const { m, n, k } = g;
    const batches = sizeOf(g.batch);
    const sa = broadcastStrides(g.aBatch, g.batch);
    const sb = broadcastStrides(g.bBatch, g.batch);
    const data = new Float32Array(batches * m * n);
    const coord = new Array<number>(g.batch.length).fill(0);
    for (let t = 0; t < batches; t++) {
      let offA = 0;
      let offB = 0;
      coord.forEach((c, d) => {
        offA += c * sa[d]! * m * k;
        offB += c * sb[d]! * k * n;
      });
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let s = bias ? bias.data[j]! : 0;
          for (let p = 0; p < k; p++) s += a!.data[offA + i * k + p]! * b!.data[offB + p * n + j]!;
          data[(t * m + i) * n + j] = s;
        }
      }
      for (let d = coord.length - 1; d >= 0; d--) {
        if (++coord[d]! < g.batch[d]!) break;
        coord[d] = 0;
      }
    }
    activateAll(node, data);
    return [{ dtype: 'float32', dims: g.out, data }];
  },
  webgpu({ inputs: [a, b, bias], node }) {
    const g = matmulGeometry(a!.dims, b!.dims);
    const { m, n, k } = g;
    const sa = broadcastStrides(g.aBatch, g.batch);
    const sb = broadcastStrides(g.bBatch, g.batch);
    const batch: BatchDim[] = g.batch.map((dim, d) => ({
      dim, a: sa[d]! * m * k, b: sb[d]! * k * n, out: sizeOf(g.batch.slice(d + 1)) * m * n, bias: 0,
    }));
    return {
      kind: 'dispatch',
      programs: [gemmProgram({
        m, n, k, batch,
        a: { ref: { input: 0 }, sm: k, sk: 1 },
        b: { ref: { input: 1 }, sk: n, sn: 1 },
        bias: bias ? { ref: { input: 2 }, sm: 0, sn: 1, beta: 1 } : undefined,
        out: { output: 0 },
        activation: nodeActivationFn(node),
      })],
    };
  },
  cpu({ inputs: [a, b, bias], node }) {
    const g = matmulGeometry(a!.dims, b!.dims);
    const { n, k } = g;
    const sa = broadcastStrides(g.aBatch, g.batch);
    const sb = broadcastStrides(g.bBatch, g.batch);
    // One B for every batch and A not broadcast: the batch folds into M, one taller GEMM.
    const fold = sb.every((s) => s === 0) && sizeOf(g.aBatch) === sizeOf(g.batch);
    const m = fold ? g.m * sizeOf(g.batch) : g.m;
    const bStride = b!.value ? panelSize(k, n) : k * n;
    const batch = fold ? [] : g.batch.map((dim, d) => ({
      dim, a: sa[d]! * g.m * k, b: sb[d]! * bStride, out: sizeOf(g.batch.slice(d + 1)) * g.m * n, c: 0,
    }));
    return cpuGemmPlan({
      m, n, k, batch, node,
      a: { ref: { input: 0 }, sm: k, sk: 1 },
      b: b!.value ? { ref: { constant: 0 }, packed: true } : { ref: { input: 1 }, packed: false, sk: n, sn: 1 },
      c: bias ? { ref: { input: 2 }, sm: 0, sn: 1, beta: 1 } : undefined,
      constants: b!.value ? [packPanels(b!.value.data, sizeOf(g.bBatch), k * n, k, n, n, 1)] : undefined,
    });
  },
};

interface GemmGeometry {
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly transA: boolean;
  readonly transB: boolean;
  /** Strides of C read as [M, N] (0 along broadcast axes). */
  readonly c?: readonly number[];
}

function gemmGeometry(a: KnownValue | Tensor, b: KnownValue | Tensor, c: KnownValue | Tensor | undefined, attrs: Attrs): GemmGeometry {
  if (a.dims.length !== 2 || b.dims.length !== 2) {
    throw new ShapeError(`Gemm operands must be 2-D, got [${a.dims.join(', ')}] and [${b.dims.join(', ')}]`);
  }
  const transA = attrInt(attrs, 'transA', 0) !== 0;
  const transB = attrInt(attrs, 'transB', 0) !== 0;
  const [m, k] = transA ? [a.dims[1]!, a.dims[0]!] : [a.dims[0]!, a.dims[1]!];
  const [kb, n] = transB ? [b.dims[1]!, b.dims[0]!] : [b.dims[0]!, b.dims[1]!];
  if (k !== kb) throw new ShapeError(`Gemm inner dims differ: A gives K=${k}, B gives K=${kb}`);
  if (c && c.dims.length > 2) throw new ShapeError(`Gemm C must have rank ≤ 2, got [${c.dims.join(', ')}]`);
  if (c && broadcastDims([c.dims, [m, n]]).some((d, i) => d !== [m, n][i])) {
    throw new ShapeError(`Gemm C [${c.dims.join(', ')}] does not broadcast to [${m}, ${n}]`);
  }
  return { m, n, k, transA, transB, c: c ? broadcastStrides(c.dims, [m, n]) : undefined };
}

const Gemm: OpDef = {
  shape([a, b, c], { node }) {
    const g = gemmGeometry(a!, b!, c, node.attrs);
    return [{ dtype: 'float32', dims: [g.m, g.n] }];
  },
  reference([a, b, c], { node }) {
    const { m, n, k, transA, transB, c: sc } = gemmGeometry(a!, b!, c, node.attrs);
    const alpha = attrFloat(node.attrs, 'alpha', 1);
    const beta = attrFloat(node.attrs, 'beta', 1);
    const data = new Float32Array(m * n);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) {
          s += a!.data[transA ? p * m + i : i * k + p]! * b!.data[transB ? j * k + p : p * n + j]!;
        }
        data[i * n + j] = alpha * s + (c && sc ? beta * c.data[i * sc[0]! + j * sc[1]!]! : 0);
      }
    }
    activateAll(node, data);
    return [{ dtype: 'float32', dims: [m, n], data }];
  },
  webgpu({ inputs: [a, b, c], node }) {
    const { m, n, k, transA, transB, c: sc } = gemmGeometry(a!, b!, c, node.attrs);
    return {
      kind: 'dispatch',
      programs: [gemmProgram({
        m, n, k, batch: [],
        a: { ref: { input: 0 }, sm: transA ? 1 : k, sk: transA ? m : 1 },
        b: { ref: { input: 1 }, sk: transB ? 1 : n, sn: transB ? k : 1 },
        bias: c && sc ? { ref: { input: 2 }, sm: sc[0]!, sn: sc[1]!, beta: attrFloat(node.attrs, 'beta', 1) } : undefined,
        alpha: attrFloat(node.attrs, 'alpha', 1),
        out: { output: 0 },
        activation: nodeActivationFn(node),
      })],
    };
  },
  cpu({ inputs: [a, b, c], node }) {
    const { m, n, k, transA, transB, c: sc } = gemmGeometry(a!, b!, c, node.attrs);
    const [sbk, sbn] = transB ? [1, k] : [n, 1];
    return cpuGemmPlan({
      m, n, k, batch: [], node,
      a: { ref: { input: 0 }, sm: transA ? 1 : k, sk: transA ? m : 1 },
      b: b!.value ? { ref: { constant: 0 }, packed: true } : { ref: { input: 1 }, packed: false, sk: sbk, sn: sbn },
      c: c && sc ? { ref: { input: 2 }, sm: sc[0]!, sn: sc[1]!, beta: attrFloat(node.attrs, 'beta', 1) } : undefined,
      alpha: attrFloat(node.attrs, 'alpha', 1),
      constants: b!.value ? [packPanels(b!.value.data, 1, 0, k, n, sbk, sbn)] : undefined,
    });
  },
};

export const matmulOps: Record<string, OpDef> = { MatMul, Gemm };
