import type { BindingRef, GpuOpArgs, GpuOpPlan, GpuProgram } from '../op.js';
import { nodeActivationFn } from '../matmul/epilogue.js';
import { amaxProgram, dotPrimitives, prepassProgram, type ScaleSource } from '../quant/gpu.js';
import { staticScale } from '../quant/pack.js';
import quantizeRowsSrc from '../quant/quantize-rows.wgsl';
import { paramsDecl, Params } from '../wgsl.js';
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

interface Binding {
  readonly name: string;
  readonly type: string;
  readonly ref: BindingRef;
  readonly mode?: 'read_write';
}

const declare = (bindings: readonly Binding[]): string =>
  bindings.map((b, i) => `@group(0) @binding(${i}) var<storage, ${b.mode ?? 'read'}> ${b.name}: array<${b.type}>;`).join('\n');

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

/** Float activations: q4matmul.wgsl, one output per invocation. */
function floatProgram(args: GpuOpArgs, g: Q4Geometry, scales: BindingRef): GpuProgram {
  const bindings: Binding[] = [{ name: 'a', type: 'f32', ref: { input: 0 } }, ...weightBindings(g, scales), { name: 'out', type: 'f32', ref: { output: 0 }, mode: 'read_write' }];
  const params = new Params().u32s(g.m, g.n, g.k, g.groups, zeroPointWords(g.groups));
  const code = `${declare(bindings)}
${paramsDecl(bindings.length, params.length)}
fn zero_point(n: u32, g: u32) -> f32 { return f32(${zeroPointExpr(g, 4)}); }
${biasFn(g)}
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
function int8Programs(args: GpuOpArgs, g: Q4Geometry, scales: BindingRef): GpuProgram[] {
  const { node, features } = args;
  const dynamic = g.actScale === 0;
  const actScales: BindingRef = { scratch: 1 };
  const scale: ScaleSource = dynamic ? { kind: 'dynamic', scales: actScales, perRow: 1, perBatch: 0 } : { kind: 'static', actScale: g.actScale };
  const words = g.groups * GROUP_A_WORDS;
  const bindings: Binding[] = [
    { name: 'aq', type: 'vec4u', ref: { scratch: 0 } }, ...weightBindings(g, scales), { name: 'out', type: 'f32', ref: { output: 0 }, mode: 'read_write' },
    ...(dynamic ? [{ name: 'act_scales', type: 'f32', ref: actScales }] : []),
  ];
  const params = new Params().u32s(g.m, g.n, g.groups, zeroPointWords(g.groups)).f32s(dynamic ? 0 : staticScale(g.actScale).scale);
  const gemv = g.m < GEMV_ROWS;
  const code = `${dotPrimitives(features)}
${declare(bindings)}
${paramsDecl(bindings.length, params.length)}
fn zero_point(n: u32, g: u32) -> u32 { return ${zeroPointExpr(g, 3)}; }
fn row_scale(m: u32) -> f32 { return ${dynamic ? 'act_scales[2u * m]' : 'p_f(4u)'}; }
${biasFn(g)}
${nodeActivationFn(node)}
${i8CommonSrc}
${gemv ? i8GemvSrc : i8GemmSrc}`;
  const nBlocks = Math.ceil(g.n / 4);
  const rowBlocks = Math.ceil(g.m / 32);
  const y = Math.min(rowBlocks, MAX_WORKGROUPS);
  return [
    ...(dynamic ? [amaxProgram({ input: 0 }, actScales, g.k, g.m)] : []),
    prepassProgram(quantizeRowsSrc, { input: 0 }, { scratch: 0 }, scale, new Params().u32s(g.k, words, g.m * words), g.m * words),
    {
      code, bindings: bindings.map((b) => b.ref), uniforms: params.pack(),
      workgroups: gemv ? [Math.ceil(nBlocks / 16), g.m, 1] : [Math.ceil(nBlocks / 8), y, Math.ceil(rowBlocks / y)],
    },
  ];
}

/** Plans Q4MatMul on WebGPU; optional inputs (zero points, bias) are bound only when present. */
export function q4GpuPlan(args: GpuOpArgs): GpuOpPlan {
  const g = q4Geometry(args.inputs, args.node);
  const scales = scaleBinding(args, g);
  if (g.m * g.n === 0) return { kind: 'dispatch', programs: [] };
  if (!g.int8) return { kind: 'dispatch', programs: [floatProgram(args, g, scales.ref)], constants: scales.constants };
  return {
    kind: 'dispatch',
    programs: int8Programs(args, g, scales.ref),
    scratch: [Math.max(16, g.m * g.groups * GROUP_A_WORDS * 4), ...(g.actScale === 0 ? [Math.max(16, g.m * 8)] : [])],
    constants: scales.constants,
  };
}
