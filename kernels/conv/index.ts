import { UnsupportedOpError } from '../../core/errors.js';
import type { Node } from '../../core/ir/graph.js';
import { sizeOf, type Tensor } from '../../core/tensor.js';
import type { GpuOpArgs, GpuOpPlan, OpDef } from '../op.js';
import { activateAll, nodeActivationFn } from '../matmul/epilogue.js';
import { dispatch1d, paramsDecl, Params } from '../wgsl.js';
import { convCpuPlan, convTransposeCpuPlan } from './cpu.js';
import { checkBias, checkResidual, convGeometry, convTransposeGeometry, RESIDUAL_INPUT, type ConvGeometry } from './geometry.js';
import { convReference, convTransposeReference } from './reference.js';
import conv2dSrc from './conv2d.wgsl';
import convTransposeSrc from './conv-transpose.wgsl';
import depthwiseSrc from './depthwise.wgsl';

/**
 * Conv and ConvTranspose. References cover any number of spatial dims; the WebGPU kernels cover
 * 1-D and 2-D (1-D runs as H = 1). Weights and bias must be known at load: the kernels read them
 * re-packed (see conv2d.wgsl), and every target model has constant conv weights.
 *
 * Kernel choice: depthwise (one input channel per group) → depthwise.wgsl; everything else →
 * conv2d.wgsl, specialised for pointwise (1x1, stride 1, no pad) where it is a plain GEMM over
 * contiguous pixels. ConvTranspose → conv-transpose.wgsl. The CPU twins (.c beside each .wgsl)
 * make the same choice; cpu.ts plans them.
 *
 * A residual Add fused by the planner (core/runtime/fuse-residual.ts) arrives as input
 * RESIDUAL_INPUT and is added in the conv kernels' epilogue, before the activation.
 */

const WG = 64;
/** Output channels per conv2d.wgsl invocation. */
const CO_BLOCK = 8;

/** 2-D view of a 1-D or 2-D geometry: [H, W] style pairs, with the missing axis of size 1. */
function as2d(g: ConvGeometry, node: Node): (a: readonly number[], fill: number) => [number, number] {
  if (g.kernel.length > 2) {
    throw new UnsupportedOpError([{ opType: node.opType, domain: node.domain, node: node.name, reason: `${g.kernel.length}-D convolution runs only on the reference backend` }]);
  }
  return (a, fill) => (a.length === 1 ? [fill, a[0]!] : [a[0]!, a[1]!]);
}

/**
 * The parameter block all three conv kernels read: 0 cIn, 1 H, 2 W, 3 cOut, 4 Ho, 5 Wo, 6 KH,
 * 7 KW, 8 sh, 9 sw, 10 ph, 11 pw (i32), 12 dh, 13 dw (i32), 14 cinG, 15 coutG, 16 channel blocks
 * per group, 17 pixel blocks, 18 invocations in the flat grid.
 */
function convParams(g: ConvGeometry, node: Node, coBlocks: number, pixBlocks: number, total: number): Params {
  const two = as2d(g, node);
  return new Params()
    .u32s(g.cIn, ...two(g.inSpatial, 1), g.cOut, ...two(g.outSpatial, 1), ...two(g.kernel, 1), ...two(g.strides, 1))
    .i32s(...two(g.padsBegin, 0))
    .i32s(...two(g.dilations, 1))
    .u32s(g.cIn / g.group, g.cOut / g.group, coBlocks, pixBlocks, total);
}

/**
 * WGSL `fn residual(i)`: what the kernel adds to output element i before the activation, the
 * fused residual bound at binding 4, or 0 (folded away by the compiler) for a plain conv.
 */
function residualFn(residual: boolean): string {
  if (!residual) return 'fn residual(i: u32) -> f32 { return 0.0; }';
  return `@group(0) @binding(4) var<storage, read> skip: array<f32>;
fn residual(i: u32) -> f32 { return skip[i]; }`;
}

/**
 * A conv-family dispatch: x, the packed weights and bias (plan constants), out, the residual when
 * the node has one (a fused Conv; conv2d.wgsl and depthwise.wgsl read it through `residual()`),
 * then the params.
 */
function program(
  src: string, node: Node, params: Params, workgroups: [number, number, number],
  constants: readonly [Tensor, Tensor], vec4Weights: boolean, prelude = '',
): GpuOpPlan {
  const residual = node.opType === 'Conv' && Boolean(node.inputs[RESIDUAL_INPUT]);
  const wt = vec4Weights ? 'vec4f' : 'f32';
  const code = `@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<${wt}>;
@group(0) @binding(2) var<storage, read> bias: array<${wt}>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
${residualFn(residual)}
${paramsDecl(residual ? 5 : 4, params.length)}
${nodeActivationFn(node)}
${prelude}
${src}`;
  const bindings = [{ input: 0 }, { constant: 0 }, { constant: 1 }, { output: 0 }, ...(residual ? [{ input: RESIDUAL_INPUT }] : [])];
  return { kind: 'dispatch', programs: [{ code, workgroups, bindings, uniforms: params.pack() }], constants };
}

/** W [cOut][cinG][taps] → [group][taps][cinG][coutG padded to 8], bias → [group][coutG padded to 8]. */
function packChannelsLast(w: Tensor, bias: Tensor | undefined, g: ConvGeometry): [Tensor, Tensor] {
  const cinG = g.cIn / g.group;
  const coutG = g.cOut / g.group;
  const pad = Math.ceil(coutG / CO_BLOCK) * CO_BLOCK;
  const taps = sizeOf(g.kernel);
  const pw = new Float32Array(g.group * cinG * taps * pad);
  const pb = new Float32Array(g.group * pad);
  for (let co = 0; co < g.cOut; co++) {
    const grp = Math.floor(co / coutG);
    const c = co % coutG;
    if (bias) pb[grp * pad + c] = bias.data[co]!;
    for (let ci = 0; ci < cinG; ci++) {
      for (let t = 0; t < taps; t++) pw[((grp * taps + t) * cinG + ci) * pad + c] = w.data[(co * cinG + ci) * taps + t]!;
    }
  }
  return [{ dtype: 'float32', dims: [pw.length], data: pw }, { dtype: 'float32', dims: [pb.length], data: pb }];
}

/** W [C][1][taps] → [C/4][taps][4] (channels padded to 4), bias → [C padded to 4]. */
function packDepthwise(w: Tensor, bias: Tensor | undefined, g: ConvGeometry): [Tensor, Tensor] {
  const taps = sizeOf(g.kernel);
  const pad = Math.ceil(g.cOut / 4) * 4;
  const pw = new Float32Array(pad * taps);
  const pb = new Float32Array(pad);
  for (let c = 0; c < g.cOut; c++) {
    if (bias) pb[c] = bias.data[c]!;
    for (let t = 0; t < taps; t++) pw[(Math.floor(c / 4) * taps + t) * 4 + (c % 4)] = w.data[c * taps + t]!;
  }
  return [{ dtype: 'float32', dims: [pw.length], data: pw }, { dtype: 'float32', dims: [pb.length], data: pb }];
}

function denseBias(bias: Tensor | undefined, cOut: number): Tensor {
  return bias ?? { dtype: 'float32', dims: [cOut], data: new Float32Array(cOut) };
}

function convPlan({ inputs, node }: GpuOpArgs): GpuOpPlan {
  const [x, w, b] = inputs;
  const g = convGeometry(x!.dims, w!.dims, node.attrs);
  const cinG = g.cIn / g.group;
  const pixels = sizeOf(g.outSpatial);
  const pixBlocks = Math.ceil(pixels / 4);
  if (cinG === 1 && g.group > 1) {
    const cBlocks = Math.ceil(g.cOut / 4);
    const total = g.batch * cBlocks * pixBlocks;
    return program(depthwiseSrc, node, convParams(g, node, cBlocks, pixBlocks, total), dispatch1d(total, WG), packDepthwise(w!.value!, b?.value, g), true);
  }
  const coBlocks = Math.ceil(g.cOut / g.group / CO_BLOCK);
  const pointwise = g.kernel.every((k) => k === 1) && g.strides.every((s) => s === 1) && [...g.padsBegin, ...g.padsEnd].every((p) => p === 0);
  const [gx, gy] = dispatch1d(coBlocks * pixBlocks, WG);
  return program(conv2dSrc, node, convParams(g, node, coBlocks, pixBlocks, 0), [gx, gy, g.batch * g.group], packChannelsLast(w!.value!, b?.value, g), true, `const POINTWISE: bool = ${pointwise};`);
}

const Conv: OpDef = {
  constInputs: [1, 2],
  shape([x, w, b, residual], { node }) {
    const g = convGeometry(x!.dims, w!.dims, node.attrs);
    checkBias(b?.dims, g.cOut, 'Conv');
    const dims = [g.batch, g.cOut, ...g.outSpatial];
    checkResidual(residual?.dims, dims);
    return [{ dtype: 'float32', dims }];
  },
  reference([x, w, b, residual], { node }) {
    const g = convGeometry(x!.dims, w!.dims, node.attrs);
    const data = convReference(x!, w!, b, g);
    if (residual) for (let i = 0; i < data.length; i++) data[i] = data[i]! + residual.data[i]!;
    activateAll(node, data);
    return [{ dtype: 'float32', dims: [g.batch, g.cOut, ...g.outSpatial], data }];
  },
  webgpu: convPlan,
  cpu: convCpuPlan,
};

const ConvTranspose: OpDef = {
  constInputs: [1, 2],
  shape([x, w, b], { node }) {
    const g = convTransposeGeometry(x!.dims, w!.dims, node.attrs);
    checkBias(b?.dims, g.cOut, 'ConvTranspose');
    return [{ dtype: 'float32', dims: [g.batch, g.cOut, ...g.outSpatial] }];
  },
  reference([x, w, b], { node }) {
    const g = convTransposeGeometry(x!.dims, w!.dims, node.attrs);
    const data = convTransposeReference(x!, w!, b, g);
    activateAll(node, data);
    return [{ dtype: 'float32', dims: [g.batch, g.cOut, ...g.outSpatial], data }];
  },
  webgpu({ inputs: [x, w, b], node }) {
    const g = convTransposeGeometry(x!.dims, w!.dims, node.attrs);
    const total = g.batch * g.cOut * sizeOf(g.outSpatial);
    return program(convTransposeSrc, node, convParams(g, node, 0, 0, total), dispatch1d(total, WG), [w!.value!, denseBias(b?.value, g.cOut)], false);
  },
  cpu: convTransposeCpuPlan,
};

export const convOps: Record<string, OpDef> = { Conv, ConvTranspose };
