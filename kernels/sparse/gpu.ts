import type { Node } from '../../core/ir/graph.js';
import type { Tensor } from '../../core/tensor.js';
import { nodeActivationFn } from '../matmul/epilogue.js';
import type { GpuOpPlan, GpuProgram } from '../op.js';
import type { QMatMulGeometry } from '../quant/geometry.js';
import { amaxProgram, PACKED_DOT_FEATURE, prepassProgram, type ScaleSource } from '../quant/gpu.js';
import { staticScale } from '../quant/pack.js';
import quantizeRowsSrc from '../quant/quantize-rows.wgsl';
import { paramsDecl, Params } from '../wgsl.js';
import { indexWords, valueWords } from './sparse24.js';
import pairTableSrc from './pair-table.wgsl';
import gemvSrc from './sparse-qgemv.wgsl';
import gemmSrc from './sparse-qmatmul.wgsl';

/**
 * WebGPU plan of SparseQMatMul: amax.wgsl when the scale is dynamic, then for M < 4 pair-table.wgsl
 * (A quantized and tabulated per group and index code) and sparse-qgemv.wgsl, else QMatMul's
 * quantize-rows.wgsl (rows of whole index words) and sparse-qmatmul.wgsl.
 */

/**
 * The gather and dot of sparse-qmatmul.wgsl. gather_shifts(codes) moves, per lane, the kept byte of
 * a group word (codes: i0, i1 of the first group, then of the second, 2 bits each) to the top;
 * shifting back down by 24 leaves it alone, arithmetically (i32) sign-extended for the portable dot.
 */
const GATHER = `fn gather_shifts(codes: u32) -> vec4u {
  return vec4u(24u) - ((vec4u(codes) >> vec4u(0u, 2u, 4u, 6u)) & vec4u(3u)) * 8u;
}
`;

const PACKED_GATHER = `requires packed_4x8_integer_dot_product;
${GATHER}alias WeightWord = u32;
fn weights(v: u32) -> u32 { return v; }
fn gather_dot(a0: u32, a1: u32, shifts: vec4u, w: u32) -> i32 {
  return dot4I8Packed(pack4xU8((vec4u(a0, a0, a1, a1) << shifts) >> vec4u(24u)), w);
}
`;

const PORTABLE_GATHER = `${GATHER}alias WeightWord = vec4i;
fn weights(v: u32) -> vec4i { return (vec4i(bitcast<i32>(v)) << vec4u(24u, 16u, 8u, 0u)) >> vec4u(24u); }
fn gather_dot(a0: u32, a1: u32, shifts: vec4u, w: vec4i) -> i32 {
  return dot((vec4i(bitcast<i32>(a0), bitcast<i32>(a0), bitcast<i32>(a1), bitcast<i32>(a1)) << shifts) >> vec4u(24u), w);
}
`;

/** Below this M the GEMV reads the pair table; from it, 4 rows per invocation share each channel's unpacking. */
const GEMM_MIN_ROWS = 4;

/** Table words per row of A in pair-table.wgsl: 16 per group of 4 values, 8 groups per index word. */
const tableWords = (k: number): number => 128 * indexWords(k);

/** The epilogue of one row's 4 channels (docs/compressed-formats.md); both kernels end in it. */
const STORE_ROW = `fn store_row(acc: vec4i, m: u32, n0: u32) {
  let N = p_u(1u);
  if (m >= p_u(0u)) { return; }
  let s = row_scale(m);
  for (var c = 0u; c < 4u; c++) {
    let n = n0 + c;
    if (n >= N) { return; }
    out[m * N + n] = activation(f32(acc[c]) * (s * wscale[n]) + bias[n]);
  }
}
`;

const storage = (name: string, binding: number, type: string, mode = 'read'): string =>
  `@group(0) @binding(${binding}) var<storage, ${mode}> ${name}: array<${type}>;`;

/** values [N, ceil(K/8)] → [N, 4·ceil(K/32)]: whole index words per row, zero-valued tail groups. */
function padValueRows(values: Tensor, n: number, k: number): Tensor {
  const from = valueWords(k);
  const to = 4 * indexWords(k);
  const data = new Int32Array(n * to);
  for (let r = 0; r < n; r++) data.set(values.data.subarray(r * from, (r + 1) * from), r * to);
  return { dtype: 'int32', dims: [data.length], data };
}

function sparseProgram(g: QMatMulGeometry, scale: ScaleSource, hasBias: boolean, node: Node, features: ReadonlySet<string> | undefined): GpuProgram {
  const dynamic = scale.kind === 'dynamic';
  const params = new Params().u32s(g.m, g.n, indexWords(g.k)).f32s(dynamic ? 0 : staticScale(scale.actScale).scale);
  const gemv = g.m < GEMM_MIN_ROWS;
  const code = `${gemv ? storage('tab', 0, 'i32') : `${features?.has(PACKED_DOT_FEATURE) ? PACKED_GATHER : PORTABLE_GATHER}
${storage('aq', 0, 'vec4u')}`}
${storage('values', 1, 'vec4u')}
${storage('indices', 2, 'u32')}
${storage('wscale', 3, 'f32')}
${storage('bias', 4, 'f32')}
${storage('out', 5, 'f32', 'read_write')}
${dynamic ? storage('scales', 6, 'f32') : ''}
${paramsDecl(dynamic ? 7 : 6, params.length)}
fn row_scale(m: u32) -> f32 { return ${dynamic ? 'scales[2u * m]' : 'p_f(3u)'}; }
${nodeActivationFn(node)}
${STORE_ROW}
${gemv ? gemvSrc : gemmSrc}`;
  return {
    code,
    workgroups: [Math.ceil(g.n / 64), gemv ? g.m : Math.ceil(g.m / 4), 1],
    bindings: [{ scratch: 0 }, { constant: 0 }, { input: 2 }, { input: 3 }, hasBias ? { input: 4 } : { constant: 1 }, { output: 0 }, ...(dynamic ? [{ scratch: 1 }] : [])],
    uniforms: params.pack(),
  };
}

export function sparseGpuPlan(g: QMatMulGeometry, values: Tensor, node: Node, features: ReadonlySet<string> | undefined): GpuOpPlan {
  if (g.m * g.n === 0) return { kind: 'dispatch', programs: [] };
  const gemv = g.m < GEMM_MIN_ROWS;
  // Per row: the pair table's words, or the packed int8 row (4 values a word).
  const words = gemv ? tableWords(g.k) : 8 * indexWords(g.k);
  const scale: ScaleSource = g.actScale === 0
    ? { kind: 'dynamic', scales: { scratch: 1 }, perRow: 1, perBatch: 0 }
    : { kind: 'static', actScale: g.actScale };
  const hasBias = !!node.inputs[4];
  return {
    kind: 'dispatch',
    programs: [
      ...(scale.kind === 'dynamic' ? [amaxProgram({ input: 0 }, { scratch: 1 }, g.k, g.m)] : []),
      gemv
        ? prepassProgram(pairTableSrc, { input: 0 }, { scratch: 0 }, scale, new Params().u32s(g.k, words / 16, g.m * words), g.m * words)
        : prepassProgram(quantizeRowsSrc, { input: 0 }, { scratch: 0 }, scale, new Params().u32s(g.k, words, g.m * words), g.m * words),
      sparseProgram(g, scale, hasBias, node, features),
    ],
    scratch: [g.m * words * 4, ...(scale.kind === 'dynamic' ? [Math.max(16, g.m * 8)] : [])],
    constants: [padValueRows(values, g.n, g.k), ...(hasBias ? [] : [{ dtype: 'float32' as const, dims: [g.n], data: new Float32Array(g.n) }])],
  };
}
