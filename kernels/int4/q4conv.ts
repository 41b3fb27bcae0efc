import type { Node } from '../../core/ir/graph.js';
import type { Tensor } from '../../core/tensor.js';
import { activateAll } from '../matmul/epilogue.js';
import type { CpuOpPlan, GpuOpArgs, GpuOpPlan, GpuProgram, OpDef } from '../op.js';
import { im2rowParams, withIm2rowCommon } from '../quant/gpu.js';
import { dispatch1d, paramsDecl, Params } from '../wgsl.js';
import { q4ConvGeometry, q4ConvOut, type Q4ConvGeometry } from './conv-geometry.js';
import { GEMV_ROWS, q4Kernel, weightBindings } from './cpu.js';
import { declare, q4Dispatch, type Binding } from './gpu.js';
import im2rowF32Src from './im2row-f32.wgsl';
import { patchRows, q4Product } from './reference.js';
import { packInt8Rows } from '../quant/pack.js';
import { padChannels, qconvKernelPlan, repackConvWeights } from '../quant/cpu.js';
import { GROUP, unpackInt4Blocks } from './pack.js';
import { scaleBinding, scaleTable } from './scales.js';

/**
 * Q4Conv (domain com.tessera): a 2-D convolution (NCHW, group 1, ONNX Conv's pads, strides,
 * dilations and auto_pad) with Q4MatMul's int4 weights, W [Cout, Kc] flattened in ONNX order
 * (c, kh, kw), Kc = Cin·kh·kw: the same packing, scales, zero points, bias, activation modes and
 * fused epilogue (docs/compressed-formats.md). Every backend multiplies the conv's patch rows with
 * Q4MatMul's own kernels: the reference with its oracle, WebGPU with im2row-f32.wgsl and then
 * Q4MatMul's programs writing NCHW directly, the CPU with q4conv.c, which gathers a chunk of rows
 * and calls the wasm Q4MatMul kernels on it, or, for a static int8 scale, with QConv's conv core
 * (staticInt8CpuPlan). So an int8 dynamic scale is per patch row (per output pixel), Q4MatMul's
 * per-row rule, where QConv's is per image.
 */

/** [batch·P, N] rows → NCHW. */
function toNchw(y: Float32Array, g: Q4ConvGeometry): Float32Array {
  const { n } = g.q4;
  const out = new Float32Array(y.length);
  for (let r = 0; r < g.q4.m; r++) {
    const b = Math.floor(r / g.pixels);
    const p = r % g.pixels;
    for (let c = 0; c < n; c++) out[(b * n + c) * g.pixels + p] = y[r * n + c]!;
  }
  return out;
}

function reference(inputs: readonly (Tensor | undefined)[], node: Node): Tensor[] {
  const g = q4ConvGeometry(inputs, node);
  const data = toNchw(q4Product(patchRows(inputs[0]!.data, g.conv), inputs.slice(1), g.q4), g);
  activateAll(node, data);
  return [{ dtype: 'float32', dims: q4ConvOut(g), data }];
}

/** im2row-f32.wgsl: the patch rows into scratch 0. */
function patchRowsProgram(g: Q4ConvGeometry): GpuProgram {
  const total = g.q4.m * g.q4.k;
  const bindings: Binding[] = [{ name: 'x', type: 'f32', ref: { input: 0 } }, { name: 'a', type: 'f32', ref: { scratch: 0 }, mode: 'read_write' }];
  const params = im2rowParams(g.conv, g.q4.k, g.q4.k, total);
  const code = `${declare(bindings)}
${paramsDecl(bindings.length, params.length)}
${withIm2rowCommon(im2rowF32Src)}`;
  return { code, bindings: bindings.map((b) => b.ref), uniforms: params.pack(), workgroups: dispatch1d(total, 64) };
}

function gpuPlan(args: GpuOpArgs): GpuOpPlan {
  const g = q4ConvGeometry(args.inputs, args.node);
  const q4 = q4Dispatch(args, g.q4, { a: { scratch: 0 }, pixels: g.pixels, scratch: 1 });
  if (!q4.programs.length) return { kind: 'dispatch', programs: [] };
  return {
    kind: 'dispatch',
    programs: [patchRowsProgram(g), ...q4.programs],
    scratch: [Math.max(16, g.q4.m * g.q4.k * 4), ...q4.scratch],
    constants: q4.constants,
  };
}

/** Patch rows per q4conv.c chunk: about 64 KiB of them, at least a GEMM tile's worth, at most an image. */
const chunkRows = (k: number, pixels: number): number => Math.min(pixels, Math.max(GEMV_ROWS, Math.floor(16384 / k)));

const align4 = (n: number): number => Math.ceil(n / 4) * 4;

/**
 * A static int8 scale on weights known at load: qconv.c's conv core (qconv_q4), the int4 weights
 * unpacked here to integers u - z (K padded to whole groups), as QConv's core reads them. It
 * quantizes each input value once and multiplies on quads of 4 pixels where q4conv.c gathers float
 * rows and runs Q4MatMul over them: the Fashion-MNIST CNN's 3x3 16→32 layer took 4x as long there.
 * The same integers and f32 steps as Q4MatMul's int8 rule, so the values are the same bit for bit;
 * the cost is the weights at 2 bytes each in wasm memory, not 0.5.
 */
function staticInt8CpuPlan(args: GpuOpArgs, g: Q4ConvGeometry): CpuOpPlan | undefined {
  const [, w, scales, zp, bias] = args.inputs;
  const { n, k, groups, actScale } = g.q4;
  if (!(actScale > 0) || !w?.value || !scales?.value || (zp && !zp.value) || (bias && !bias.value)) return undefined;
  const kg = groups * GROUP;
  const values = unpackInt4Blocks(w.value.data, zp?.value?.data, n, k);
  const padded = new Int8Array(n * kg);
  for (let c = 0; c < n; c++) padded.set(values.subarray(c * k, (c + 1) * k), c * kg);
  const words: Tensor = { dtype: 'int32', dims: [n, kg / 4], data: packInt8Rows(padded, n, kg) };
  const table = new Float32Array(Math.ceil(n / 4) * 4 * groups);
  table.set(scaleTable(scales.value, g.q4));
  return qconvKernelPlan({ ...g.conv, k, actScale }, args.node, {
    fn: 'qconv_q4', k2: kg / 2, q4Groups: groups,
    constants: [repackConvWeights(words, 1, n, kg), { dtype: 'float32', dims: [table.length], data: table }, padChannels(bias?.value, 1, n)],
  });
}

function cpuPlan(args: GpuOpArgs): CpuOpPlan {
  const g = q4ConvGeometry(args.inputs, args.node);
  if (g.q4.m * g.q4.n === 0) return { kind: 'call', calls: [] };
  const direct = staticInt8CpuPlan(args, g);
  if (direct) return direct;
  const scales = scaleBinding(args, g.q4);
  const { conv } = g;
  const chunk = chunkRows(g.q4.k, g.pixels);
  const kernel = q4Kernel({ ...g.q4, m: chunk }, args.node);
  const params = new Params()
    .u32s(conv.batch, conv.cIn, ...conv.inSpatial, ...conv.outSpatial, ...conv.kernel)
    .i32s(...conv.strides, ...conv.padsBegin, ...conv.dilations)
    .u32s(chunk, g.q4.int8 ? 1 : 0, ...kernel.params.pack());
  return {
    kind: 'call',
    calls: [{ fn: 'q4conv', bindings: [{ input: 0 }, ...weightBindings(g.q4, scales.ref)], uniforms: params.pack() }],
    scratch: [4 * (align4(chunk * g.q4.k) + align4(chunk * g.q4.n)) + kernel.scratch],
    constants: scales.constants,
  };
}

export const Q4Conv: OpDef = {
  shape(inputs, { node }) {
    return [{ dtype: 'float32', dims: q4ConvOut(q4ConvGeometry(inputs, node)) }];
  },
  reference: (inputs, { node }) => reference(inputs, node),
  webgpu: gpuPlan,
  cpu: cpuPlan,
};
