import type { Node } from '../../core/ir/graph.js';
import type { Tensor } from '../../core/tensor.js';
import { nodeActivationFn } from '../matmul/epilogue.js';
import type { BindingRef, GpuProgram } from '../op.js';
import { dispatch1d, NAN_FNS, paramsDecl, Params, storageDecl } from '../wgsl.js';
import type { ConvGeometry } from '../conv/geometry.js';
import amaxSrc from './amax.wgsl';
import im2rowCommonSrc from './im2row-common.wgsl';
import { packedWords, QMAX, staticScale } from './pack.js';
import commonSrc from './qgemm-common.wgsl';
import qgemmSrc from './qgemm.wgsl';
import qgemvSrc from './qgemv.wgsl';
import quantizeCommonSrc from './quantize-common.wgsl';
import rowValueSrc from './row-value.wgsl';
import im2rowPackedSrc from './im2row-packed.wgsl';

/**
 * WebGPU planning shared by QMatMul and QConv: an activation pre-pass (amax.wgsl for a dynamic
 * scale, then quantize-rows.wgsl or im2row.wgsl writing packed int8 rows into scratch), then the
 * int8 GEMM (qgemm.wgsl, or qgemv.wgsl for M < 4). The dot product is chosen from the device's
 * WGSL language features: dot4I8Packed where `packed_4x8_integer_dot_product` exists, shifts and
 * an integer dot otherwise.
 */

export const PACKED_DOT_FEATURE = 'packed_4x8_integer_dot_product';

/**
 * The two dot-product primitives qgemm.wgsl / qgemv.wgsl are written in: `dot4x4` (one packed word
 * of A against 4 channels' words) and `mac4x4` (4 rows' words against 4 channels', accumulated).
 */
const PACKED_DOT = `requires packed_4x8_integer_dot_product;
fn dot4x4(a: u32, w0: u32, w1: u32, w2: u32, w3: u32) -> vec4i {
  return vec4i(dot4I8Packed(a, w0), dot4I8Packed(a, w1), dot4I8Packed(a, w2), dot4I8Packed(a, w3));
}
fn mac4x4(a: vec4u, w: vec4u, c0: ptr<function, vec4i>, c1: ptr<function, vec4i>, c2: ptr<function, vec4i>, c3: ptr<function, vec4i>) {
  *c0 += dot4x4(a.x, w.x, w.y, w.z, w.w);
  *c1 += dot4x4(a.y, w.x, w.y, w.z, w.w);
  *c2 += dot4x4(a.z, w.x, w.y, w.z, w.w);
  *c3 += dot4x4(a.w, w.x, w.y, w.z, w.w);
}
`;

/**
 * Without the builtin: each byte sign-extended by shifting it to the top and back (i32 >> is
 * arithmetic), every word unpacked once per call and reused across the block (mac4x4 unpacks 8
 * words for 64 products, where a per-pair dot would unpack 32).
 */
const PORTABLE_DOT = `fn unpack_i8(a: u32) -> vec4i {
  return (vec4i(bitcast<i32>(a)) << vec4u(24u, 16u, 8u, 0u)) >> vec4u(24u);
}
fn dot4x4(a: u32, w0: u32, w1: u32, w2: u32, w3: u32) -> vec4i {
  let x = unpack_i8(a);
  return vec4i(dot(x, unpack_i8(w0)), dot(x, unpack_i8(w1)), dot(x, unpack_i8(w2)), dot(x, unpack_i8(w3)));
}
fn mac4x4(a: vec4u, w: vec4u, c0: ptr<function, vec4i>, c1: ptr<function, vec4i>, c2: ptr<function, vec4i>, c3: ptr<function, vec4i>) {
  let u0 = unpack_i8(w.x);
  let u1 = unpack_i8(w.y);
  let u2 = unpack_i8(w.z);
  let u3 = unpack_i8(w.w);
  let x0 = unpack_i8(a.x);
  *c0 += vec4i(dot(x0, u0), dot(x0, u1), dot(x0, u2), dot(x0, u3));
  let x1 = unpack_i8(a.y);
  *c1 += vec4i(dot(x1, u0), dot(x1, u1), dot(x1, u2), dot(x1, u3));
  let x2 = unpack_i8(a.z);
  *c2 += vec4i(dot(x2, u0), dot(x2, u1), dot(x2, u2), dot(x2, u3));
  let x3 = unpack_i8(a.w);
  *c3 += vec4i(dot(x3, u0), dot(x3, u1), dot(x3, u2), dot(x3, u3));
}
`;

/**
 * The source of `dot4x4` / `mac4x4` for a device's WGSL features; it must open the module (the
 * packed variant starts with its `requires` directive). Also read by kernels/int4's int8 path.
 */
export const dotPrimitives = (features: ReadonlySet<string> | undefined): string => (features?.has(PACKED_DOT_FEATURE) ? PACKED_DOT : PORTABLE_DOT);

/** Words per packed row as the GPU kernels read it: whole vec4s (16 values). */
export const gpuRowWords = (k: number): number => Math.ceil(k / 16) * 4;

/**
 * The weight constant qgemm.wgsl and qgemv.wgsl read, from packed rows W [group·n, ceil(K/4)]:
 * K-major, word kw of channel c at (g·KW + kw)·NP + c with KW = gpuRowWords(K) and NP = n rounded
 * up to 4 (zeros past K and n), so the invocations of a workgroup, 4 consecutive channels each,
 * read one contiguous run per word.
 */
export function gpuWeights(w: Tensor, group: number, n: number, k: number): Tensor {
  const from = packedWords(k);
  const to = gpuRowWords(k);
  const np = Math.ceil(n / 4) * 4;
  const data = new Int32Array(group * to * np);
  for (let g = 0; g < group; g++) {
    for (let c = 0; c < n; c++) for (let kw = 0; kw < from; kw++) data[(g * to + kw) * np + c] = w.data[(g * n + c) * from + kw]!;
  }
  return { dtype: 'int32', dims: [data.length], data };
}

/** A pass over patch rows (QConv's im2row.wgsl, Q4Conv's im2row-f32.wgsl) with the tap lookup it calls. */
export const withIm2rowCommon = (src: string): string => `${im2rowCommonSrc}\n${src}`;

/**
 * im2row-common.wgsl's parameters 0-18: a 2-D conv with `k` taps, rows of `rowLength` values or
 * words, `invocations` in all; with `pooled`, rows in 2x2-window order (even output dims).
 */
export function im2rowParams(g: ConvGeometry, k: number, rowLength: number, invocations: number, pooled = false): Params {
  const [h, wd] = g.inSpatial as [number, number];
  const [ho, wo] = g.outSpatial as [number, number];
  return new Params()
    .u32s(g.cIn, h, wd, wo, ...g.kernel, ...g.strides)
    .i32s(...g.padsBegin)
    .u32s(...g.dilations, g.cIn / g.group, g.group, ho * wo, k, rowLength, invocations, pooled ? wo / 2 : 0);
}

/**
 * im2row-packed.wgsl: the patch rows (`rowWords` words for `k` taps, `totalWords` in all) of a
 * QConv of geometry `g` gathered from the int8 words its producer stored (qgemm-common.wgsl,
 * PACK_OUT).
 */
export function packedIm2rowProgram(x: BindingRef, aq: BindingRef, g: ConvGeometry, k: number, rowWords: number, totalWords: number, pooled: boolean): GpuProgram {
  const run = [4, 2, 1].find((r) => (g.cIn / g.group / 4) % r === 0)!;
  const invocations = totalWords / run;
  const params = im2rowParams(g, k, rowWords, invocations, pooled);
  const code = `${storageDecl('x', 0, 'u32')}
${storageDecl('aq', 1, 'u32', 'read_write')}
${paramsDecl(2, params.length)}
const RUN = ${run}u;
${withIm2rowCommon(im2rowPackedSrc)}`;
  return { code, workgroups: dispatch1d(invocations, 64), bindings: [x, aq], uniforms: params.pack() };
}

/** Where the activation scale comes from: a static one, or per segment from amax.wgsl's output. */
export type ScaleSource =
  | { readonly kind: 'static'; readonly actScale: number }
  /** `scales` holds (s, inv) per segment; the GEMM's segment is m·perRow + b·perBatch. */
  | { readonly kind: 'dynamic'; readonly scales: BindingRef; readonly perRow: number; readonly perBatch: number };

/** amax.wgsl over `segments` runs of `len` contiguous floats of x. */
export function amaxProgram(x: BindingRef, scales: BindingRef, len: number, segments: number): GpuProgram {
  const params = new Params().u32s(len, segments).f32s(QMAX);
  const code = `${storageDecl('x', 0, 'f32')}
${storageDecl('scales', 1, 'f32', 'read_write')}
${paramsDecl(2, params.length)}
${amaxSrc}`;
  return { code, workgroups: dispatch1d(segments, 1), bindings: [x, scales], uniforms: params.pack() };
}

/**
 * A quantizing pre-pass (quantize-rows.wgsl, im2row.wgsl: one invocation per packed word; sparse
 * kept-table.wgsl: one per span) writing to `aq`, `invocations` flat over 64-wide workgroups.
 * `params` are the kernel's own; the static multiplier is appended as its last word.
 */
export function prepassProgram(src: string, x: BindingRef, aq: BindingRef, scale: ScaleSource, params: Params, invocations: number): GpuProgram {
  const invAt = params.length;
  params.f32s(scale.kind === 'static' ? staticScale(scale.actScale).inv : 0);
  const dynamic = scale.kind === 'dynamic';
  const code = `${storageDecl('x', 0, 'f32')}
${storageDecl('aq', 1, 'u32', 'read_write')}
${dynamic ? storageDecl('scales', 2, 'f32') : ''}
${paramsDecl(dynamic ? 3 : 2, params.length)}
fn act_inv(seg: u32) -> f32 { return ${dynamic ? 'scales[2u * seg + 1u]' : `p_f(${invAt}u)`}; }
${quantizeCommonSrc}
${rowValueSrc}
${src}`;
  return { code, workgroups: dispatch1d(invocations, 64), bindings: [x, aq, ...(dynamic ? [scale.scales] : [])], uniforms: params.pack() };
}

/** One int8 GEMM (see qgemm-common.wgsl for the parameter meanings). */
export interface QGemmSpec {
  readonly m: number;
  /** Output channels per group. */
  readonly n: number;
  readonly k: number;
  readonly group: number;
  /** gid.z extent: batch items × groups. */
  readonly z: number;
  readonly aq: BindingRef;
  readonly wq: BindingRef;
  readonly wscale: BindingRef;
  readonly bias: BindingRef;
  readonly out: { readonly perRow: number; readonly perCol: number; readonly perBatch: number; readonly perGroup: number };
  /** Packed A words per gid.z slice. */
  readonly aWordsPerZ: number;
  readonly scale: ScaleSource;
  readonly node: Node;
  readonly features: ReadonlySet<string> | undefined;
  /** Rows come in 2x2 MaxPool windows (im2row-common.wgsl); `out` addresses the pooled output. */
  readonly pool2x2?: boolean;
  /** The reader's static activation scale: store int8 words for it (qgemm-common.wgsl, PACK_OUT); `out` strides count words. */
  readonly packOut?: number;
}

/** dispatch1d's grid for `invocations` with `z` slices. */
function flatWorkgroups(invocations: number, z: number): [number, number, number] {
  const [x, y] = dispatch1d(invocations, 64);
  return [x, y, z];
}

export function qgemmProgram(spec: QGemmSpec): GpuProgram {
  const { m, n, k, scale, out } = spec;
  const kv = gpuRowWords(k) / 4;
  const dynamic = scale.kind === 'dynamic';
  const params = new Params()
    .u32s(m, n, kv, spec.group, out.perRow, out.perCol, out.perBatch, out.perGroup, spec.aWordsPerZ / 4)
    .f32s(dynamic ? 0 : staticScale(scale.actScale).scale)
    .u32s(dynamic ? scale.perRow : 0, dynamic ? scale.perBatch : 0)
    .f32s(spec.packOut ? staticScale(spec.packOut).inv : 0);
  const bindings: BindingRef[] = [spec.aq, spec.wq, spec.wscale, spec.bias, { output: 0 }, ...(dynamic ? [scale.scales] : [])];
  const gemv = m < 4 && !spec.pool2x2;
  // store_pooled's max_nan: from NAN_FNS, which some activations bring along already.
  const activation = nodeActivationFn(spec.node);
  const packed = spec.packOut !== undefined;
  const code = `${dotPrimitives(spec.features)}
${storageDecl('aq', 0, 'vec4u')}
${storageDecl('wq', 1, 'vec4u')}
${storageDecl('wscale', 2, 'f32')}
${storageDecl('bias', 3, 'f32')}
${storageDecl('out', 4, packed ? 'u32' : 'f32', 'read_write')}
fn put_f32(i: u32, v: f32) { out[i] = ${packed ? 'bitcast<u32>(v)' : 'v'}; }
fn put_word(i: u32, w: u32) { out[i] = ${packed ? 'w' : 'bitcast<f32>(w)'}; }
${quantizeCommonSrc}
${dynamic ? storageDecl('scales', 5, 'f32') : ''}
${paramsDecl(bindings.length, params.length)}
fn row_scale(m: u32, b: u32) -> f32 { return ${dynamic ? 'scales[2u * (m * p_u(10u) + b * p_u(11u))]' : 'p_f(9u)'}; }
${activation}
${activation.includes(NAN_FNS) ? '' : NAN_FNS}const POOL2X2 = ${spec.pool2x2 ?? false};
const PACK_OUT = ${packed};
${commonSrc}
${gemv ? qgemvSrc : qgemmSrc}`;
  const nBlocks = Math.ceil(n / 4);
  const workgroups: [number, number, number] = gemv ? [Math.ceil(nBlocks / 16), m, spec.z] : flatWorkgroups(nBlocks * Math.ceil(m / 4), spec.z);
  return { code, workgroups, bindings, uniforms: params.pack() };
}
