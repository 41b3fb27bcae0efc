import type { Node } from '../../core/ir/graph.js';
import type { Tensor } from '../../core/tensor.js';
import { nodeActivationFn } from '../matmul/epilogue.js';
import type { BindingRef, GpuOpPlan, GpuProgram } from '../op.js';
import type { QMatMulGeometry } from '../quant/geometry.js';
import { amaxProgram, PACKED_DOT_FEATURE, prepassProgram, type ScaleSource } from '../quant/gpu.js';
import { staticScale } from '../quant/pack.js';
import quantizeRowsSrc from '../quant/quantize-rows.wgsl';
import { paramsDecl, Params, storageDecl } from '../wgsl.js';
import keptTableSrc from './kept-table.wgsl';
import { indexWords, PAIR_OF_CODE, valueWords } from './sparse24.js';
import gemvSrc from './sparse-qgemv.wgsl';
import gemmSrc from './sparse-qmatmul.wgsl';

/**
 * WebGPU plan of SparseQMatMul: amax.wgsl when the scale is dynamic, then for M <= 64 kept-table.wgsl
 * (A quantized and tabulated per value word and pair of kept pairs) and sparse-qgemv.wgsl, else
 * QMatMul's quantize-rows.wgsl (rows of whole index words) and sparse-qmatmul.wgsl.
 */

/** Sign-extends the 4 bytes of a word (i32 >> is arithmetic): the portable stand-in for packed dots. */
const UNPACK_I8 = `fn unpack_i8(v: u32) -> vec4i { return (vec4i(bitcast<i32>(v)) << vec4u(24u, 16u, 8u, 0u)) >> vec4u(24u); }
`;

/** sparse-qgemv.wgsl's dot4(a, w): the 4-way int8 dot of two packed words. */
const PACKED_DOT = `requires packed_4x8_integer_dot_product;
fn dot4(a: u32, w: u32) -> i32 { return dot4I8Packed(a, w); }
`;

const PORTABLE_DOT = `${UNPACK_I8}fn dot4(a: u32, w: u32) -> i32 { return dot(unpack_i8(a), unpack_i8(w)); }
`;

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

const PORTABLE_GATHER = `${GATHER}${UNPACK_I8}alias WeightWord = vec4i;
fn weights(v: u32) -> vec4i { return unpack_i8(v); }
fn gather_dot(a0: u32, a1: u32, shifts: vec4u, w: vec4i) -> i32 {
  return dot((vec4i(bitcast<i32>(a0), bitcast<i32>(a0), bitcast<i32>(a1), bitcast<i32>(a1)) << shifts) >> vec4u(24u), w);
}
`;

/**
 * Up to this M, sparse-qgemv.wgsl with the kept table (18 bytes per activation); above, the table
 * would grow with M, and sparse-qmatmul.wgsl picks bytes with 4 rows per invocation. On SwiftShader
 * the table path measured 1.7x the picking one at M = 64 as well as ahead at M = 1
 * (kernels/sparse/perf.ts); larger M was not measured.
 */
const TABLE_MAX_ROWS = 64;

/** Table words per row of A in kept-table.wgsl: 36 per value word, 4 value words per index word. */
const tableWords = (k: number): number => 144 * indexWords(k);

/**
 * sparse-qgemv.wgsl's weights, K-major so that consecutive channels' words are consecutive (an
 * emulated adapter loads 4 lanes' words at once only then): values [4 IW][N] (value word w of
 * channel n at w N + n, zero past the bundle's ceil(K/8) words) and pairs [IW][N], byte t of pair
 * word (j, n) = p0 + 6 p1 for the pair numbers of value word 4j + t's two groups, its entry in the
 * kept table. The codes must have been checked (checkSparseWeights).
 */
function gemvWeights(values: Tensor, indices: Tensor, n: number, k: number): [Tensor, Tensor] {
  const vw = valueWords(k);
  const iw = indexWords(k);
  const planes = new Int32Array(4 * iw * n);
  const pairs = new Int32Array(iw * n);
  for (let c = 0; c < n; c++) {
    for (let w = 0; w < vw; w++) planes[w * n + c] = values.data[c * vw + w]!;
    for (let j = 0; j < iw; j++) {
      const word = indices.data[c * iw + j]!;
      let out = 0;
      for (let t = 0; t < 4; t++) {
        const codes = word >>> (8 * t);
        out |= (PAIR_OF_CODE[codes & 15]! + 6 * PAIR_OF_CODE[(codes >>> 4) & 15]!) << (8 * t);
      }
      pairs[j * n + c] = out;
    }
  }
  return [{ dtype: 'int32', dims: [planes.length], data: planes }, { dtype: 'int32', dims: [pairs.length], data: pairs }];
}

/** The epilogue of one output (docs/compressed-formats.md), skipped past M or N; both kernels end in it. */
const STORE = `fn store(acc: i32, m: u32, n: u32) {
  let N = p_u(1u);
  if (m >= p_u(0u) || n >= N) { return; }
  out[m * N + n] = activation(f32(acc) * (row_scale(m) * wscale[n]) + bias[n]);
}
`;

/** values [N, ceil(K/8)] → [N, 4·ceil(K/32)]: whole index words per row, zero-valued tail groups. */
function padValueRows(values: Tensor, n: number, k: number): Tensor {
  const from = valueWords(k);
  const to = 4 * indexWords(k);
  const data = new Int32Array(n * to);
  for (let r = 0; r < n; r++) data.set(values.data.subarray(r * from, (r + 1) * from), r * to);
  return { dtype: 'int32', dims: [data.length], data };
}

/** `codes`: the bundle's indices (GEMM) or gemvWeights' pairs (GEMV). */
function sparseProgram(g: QMatMulGeometry, scale: ScaleSource, codes: BindingRef, bias: BindingRef, node: Node, features: ReadonlySet<string> | undefined): GpuProgram {
  const dynamic = scale.kind === 'dynamic';
  const params = new Params().u32s(g.m, g.n, indexWords(g.k)).f32s(dynamic ? 0 : staticScale(scale.actScale).scale);
  const gemv = g.m <= TABLE_MAX_ROWS;
  const packed = features?.has(PACKED_DOT_FEATURE);
  const code = `${gemv ? `${packed ? PACKED_DOT : PORTABLE_DOT}${storageDecl('tab', 0, 'u32')}` : `${packed ? PACKED_GATHER : PORTABLE_GATHER}${storageDecl('aq', 0, 'vec4u')}`}
${storageDecl('values', 1, gemv ? 'u32' : 'vec4u')}
${storageDecl(gemv ? 'pairs' : 'indices', 2, 'u32')}
${storageDecl('wscale', 3, 'f32')}
${storageDecl('bias', 4, 'f32')}
${storageDecl('out', 5, 'f32', 'read_write')}
${dynamic ? storageDecl('scales', 6, 'f32') : ''}
${paramsDecl(dynamic ? 7 : 6, params.length)}
fn row_scale(m: u32) -> f32 { return ${dynamic ? 'scales[2u * m]' : 'p_f(3u)'}; }
${nodeActivationFn(node)}
${STORE}
${gemv ? gemvSrc : gemmSrc}`;
  return {
    code,
    workgroups: [Math.ceil(g.n / 64), gemv ? g.m : Math.ceil(g.m / 4), 1],
    bindings: [{ scratch: 0 }, { constant: 0 }, codes, { input: 3 }, bias, { output: 0 }, ...(dynamic ? [{ scratch: 1 }] : [])],
    uniforms: params.pack(),
  };
}

export function sparseGpuPlan(g: QMatMulGeometry, values: Tensor, indices: Tensor, node: Node, features: ReadonlySet<string> | undefined): GpuOpPlan {
  if (g.m * g.n === 0) return { kind: 'dispatch', programs: [] };
  const gemv = g.m <= TABLE_MAX_ROWS;
  // Per row: the kept table's words, or the packed int8 row (4 values a word).
  const words = gemv ? tableWords(g.k) : 8 * indexWords(g.k);
  const scale: ScaleSource = g.actScale === 0
    ? { kind: 'dynamic', scales: { scratch: 1 }, perRow: 1, perBatch: 0 }
    : { kind: 'static', actScale: g.actScale };
  const hasBias = !!node.inputs[4];
  const constants: Tensor[] = gemv ? gemvWeights(values, indices, g.n, g.k) : [padValueRows(values, g.n, g.k)];
  const codes: BindingRef = gemv ? { constant: 1 } : { input: 2 };
  const bias: BindingRef = hasBias ? { input: 4 } : { constant: constants.length };
  if (!hasBias) constants.push({ dtype: 'float32', dims: [g.n], data: new Float32Array(g.n) });
  return {
    kind: 'dispatch',
    programs: [
      ...(scale.kind === 'dynamic' ? [amaxProgram({ input: 0 }, { scratch: 1 }, g.k, g.m)] : []),
      // The kept table takes one invocation per span (its 36 words), where prepassProgram's other
      // users take one per word.
      gemv
        ? prepassProgram(keptTableSrc, { input: 0 }, { scratch: 0 }, scale, new Params().u32s(g.k, words / 36, (g.m * words) / 36), (g.m * words) / 36)
        : prepassProgram(quantizeRowsSrc, { input: 0 }, { scratch: 0 }, scale, new Params().u32s(g.k, words, g.m * words), g.m * words),
      sparseProgram(g, scale, codes, bias, node, features),
    ],
    scratch: [g.m * words * 4, ...(scale.kind === 'dynamic' ? [Math.max(16, g.m * 8)] : [])],
    constants,
  };
}
