import type { Tensor } from '../../core/tensor.js';
import type { BindingRef, GpuOpArgs, GpuOpPlan, GpuProgram } from '../op.js';
import { nodeActivationFn } from '../matmul/epilogue.js';
import { amaxProgram, dotPrimitives, prepassProgram, type ScaleSource } from '../quant/gpu.js';
import { staticScale } from '../quant/pack.js';
import quantizeRowsSrc from '../quant/quantize-rows.wgsl';
import { paramsDecl, Params, storageDecl } from '../wgsl.js';
import { q4Geometry, type Q4Geometry } from './geometry.js';
import { GROUP, zeroPointWords } from './pack.js';
import { scaleBinding } from './scales.js';
import src from './q4matmul.wgsl';
import i8CommonSrc from './q4-i8-common.wgsl';
import i8GemmSrc from './q4gemm-i8.wgsl';
import i8GemvSrc from './q4gemv-i8.wgsl';

/** Invocations per workgroup along N (q4matmul.wgsl). */
const WG = 64;
const MAX_WORKGROUPS = 65535;
/** Below this many rows the int8 path runs q4gemv-i8.wgsl, where 3 of 4 rows of q4gemm-i8's block would be padding. */
const GEMV_ROWS = 4;
/** Packed int8 words of A per group (32 values, 4 per word). */
const GROUP_A_WORDS = GROUP / 4;

export interface Binding {
  readonly name: string;
  readonly type: string;
  readonly ref: BindingRef;
  readonly mode?: 'read_write';
}

export const declare = (bindings: readonly Binding[]): string =>
  bindings.map((b, i) => storageDecl(b.name, i, b.type, b.mode)).join('\n');

/** The weight-side bindings both paths read: packed W, the f32 scale table, zero points and bias when present. */
function weightBindings(g: Q4Geometry, scales: BindingRef): Binding[] {
  return [
    { name: 'w', type: 'vec4<u32>', ref: { input: 1 } },
    { name: 'scales', type: 'f32', ref: scales },
    ...(g.zeroPoints ? [{ name: 'zp', type: 'u32', ref: { input: 3 } }] : []),
    ...(g.bias ? [{ name: 'bias', type: 'f32', ref: { input: 4 } }] : []),
  ];
}

/** The zero point of channel n, group g, as WGSL (8 for symmetric weights); `at` is the parameter index of the zero-point words per row. */
const zeroPointExpr = (g: Q4Geometry, at: number): string =>
  g.zeroPoints ? `(zp[n * p_u(${at}u) + g / 8u] >> (4u * (g % 8u))) & 15u` : '8u';

const biasFn = (g: Q4Geometry): string => `fn load_bias(n: u32) -> f32 { ${g.bias ? 'return bias[n];' : 'return 0.0;'} }`;

/**
 * What the kernels multiply and where they write: A's binding (Q4MatMul's input 0, or Q4Conv's
 * patch rows in scratch), and the output layout, row-major [M, N] or, when `pixels` is given,
 * NCHW with M = images · pixels (Q4Conv's, so no transpose pass follows).
 */
export interface Q4Operands {
  readonly a: BindingRef;
  readonly pixels?: number;
  /** The first scratch index the int8 path's pre-passes may take. */
  readonly scratch: number;
}

/** `fn out_index(m, n)`; N is parameter 1 in both kernels' blocks, `pixels` goes at `at` (pushed here). */
function outIndexFn(io: Q4Operands, params: Params): string {
  if (io.pixels === undefined) return 'fn out_index(m: u32, n: u32) -> u32 { return m * p_u(1u) + n; }';
  const at = params.length;
  params.u32s(io.pixels);
  return `fn out_index(m: u32, n: u32) -> u32 { let P = p_u(${at}u); return (m / P * p_u(1u) + n) * P + m % P; }`;
}

/** Float activations: q4matmul.wgsl, one output per invocation. */
function floatProgram(args: GpuOpArgs, g: Q4Geometry, scales: BindingRef, io: Q4Operands): GpuProgram {
  const bindings: Binding[] = [{ name: 'a', type: 'f32', ref: io.a }, ...weightBindings(g, scales), { name: 'out', type: 'f32', ref: { output: 0 }, mode: 'read_write' }];
  const params = new Params().u32s(g.m, g.n, g.k, g.groups, zeroPointWords(g.groups));
  const outIndex = outIndexFn(io, params);
  const code = `${declare(bindings)}
${paramsDecl(bindings.length, params.length)}
fn zero_point(n: u32, g: u32) -> f32 { return f32(${zeroPointExpr(g, 4)}); }
${biasFn(g)}
${outIndex}
${nodeActivationFn(args.node)}
${src}`;
  const y = Math.min(g.m, MAX_WORKGROUPS);
  return { code, bindings: bindings.map((b) => b.ref), uniforms: params.pack(), workgroups: [Math.ceil(g.n / WG), y, Math.ceil(g.m / y)] };
}

/**
 * int8 activations: A quantized by kernels/quant's pre-passes (amax.wgsl for the dynamic scale,
 * quantize-rows.wgsl into whole groups of packed int8, zero past K), then q4gemv-i8.wgsl or
 * q4gemm-i8.wgsl with the dot primitives the device's WGSL features allow.
 */
function int8Programs(args: GpuOpArgs, g: Q4Geometry, scales: BindingRef, io: Q4Operands): GpuProgram[] {
  const { node, features } = args;
  const dynamic = g.actScale === 0;
  const aq: BindingRef = { scratch: io.scratch };
  const actScales: BindingRef = { scratch: io.scratch + 1 };
  const scale: ScaleSource = dynamic ? { kind: 'dynamic', scales: actScales, perRow: 1, perBatch: 0 } : { kind: 'static', actScale: g.actScale };
  const words = g.groups * GROUP_A_WORDS;
  const bindings: Binding[] = [
    { name: 'aq', type: 'vec4u', ref: aq }, ...weightBindings(g, scales), { name: 'out', type: 'f32', ref: { output: 0 }, mode: 'read_write' },
    ...(dynamic ? [{ name: 'act_scales', type: 'f32', ref: actScales }] : []),
  ];
  const params = new Params().u32s(g.m, g.n, g.groups, zeroPointWords(g.groups)).f32s(dynamic ? 0 : staticScale(g.actScale).scale);
  const outIndex = outIndexFn(io, params);
  const gemv = g.m < GEMV_ROWS;
  const code = `${dotPrimitives(features)}
${declare(bindings)}
${paramsDecl(bindings.length, params.length)}
fn zero_point(n: u32, g: u32) -> u32 { return ${zeroPointExpr(g, 3)}; }
fn row_scale(m: u32) -> f32 { return ${dynamic ? 'act_scales[2u * m]' : 'p_f(4u)'}; }
${biasFn(g)}
${outIndex}
${nodeActivationFn(node)}
${i8CommonSrc}
${gemv ? i8GemvSrc : i8GemmSrc}`;
  const nBlocks = Math.ceil(g.n / 4);
  const rowBlocks = Math.ceil(g.m / 32);
  const y = Math.min(rowBlocks, MAX_WORKGROUPS);
  return [
    ...(dynamic ? [amaxProgram(io.a, actScales, g.k, g.m)] : []),
    prepassProgram(quantizeRowsSrc, io.a, aq, scale, new Params().u32s(g.k, words, g.m * words), g.m * words),
    {
      code, bindings: bindings.map((b) => b.ref), uniforms: params.pack(),
      workgroups: gemv ? [Math.ceil(nBlocks / 16), g.m, 1] : [Math.ceil(nBlocks / 8), y, Math.ceil(rowBlocks / y)],
    },
  ];
}

/**
 * The programs for `g` over `io`, and the scratch they add from index `io.scratch` on; an empty
 * list when the product is empty.
 */
export function q4Dispatch(args: GpuOpArgs, g: Q4Geometry, io: Q4Operands): { programs: GpuProgram[]; scratch: number[]; constants: Tensor[] } {
  const scales = scaleBinding(args, g);
  if (g.m * g.n === 0) return { programs: [], scratch: [], constants: [] };
  if (!g.int8) return { programs: [floatProgram(args, g, scales.ref, io)], scratch: [], constants: scales.constants };
  return {
    programs: int8Programs(args, g, scales.ref, io),
    scratch: [Math.max(16, g.m * g.groups * GROUP_A_WORDS * 4), ...(g.actScale === 0 ? [Math.max(16, g.m * 8)] : [])],
    constants: scales.constants,
  };
}

/** Plans Q4MatMul on WebGPU; optional inputs (zero points, bias) are bound only when present. */
export function q4GpuPlan(args: GpuOpArgs): GpuOpPlan {
  return { kind: 'dispatch', ...q4Dispatch(args, q4Geometry(args.inputs, args.node), { a: { input: 0 }, scratch: 0 }) };
}
