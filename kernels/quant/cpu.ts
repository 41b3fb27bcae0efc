import type { Node } from '../../core/ir/graph.js';
import type { Tensor } from '../../core/tensor.js';
import { pushActivation } from '../matmul/cpu.js';
import type { CpuOpPlan } from '../op.js';
import { Params } from '../wgsl.js';
import type { QConvGeometry, QMatMulGeometry } from './geometry.js';
import { packedWords, staticScale } from './pack.js';

/**
 * CPU plans for QMatMul (qmatmul.c) and QConv (qconv.c). Weights are repacked once here into the
 * block orders their cores read (qgemm-core.h and qconv.c say why).
 */

/** K rounded up to whole 16-value steps of the wasm core. */
const paddedK = (k: number): number => Math.ceil(k / 16) * 16;

/**
 * Packed W [n, ceil(K/4)] (int8 in int32 words) → [ceil(n/4)][KP/16][4][16] int8 (qgemm-core.h),
 * zero-padded in channels and k, held in int32 words (the bytes are what the kernel reads).
 */
function repackWeightBlocks(w: Tensor, n: number, k: number): Tensor {
  const kp = paddedK(k);
  const src = new Int8Array(w.data.buffer, w.data.byteOffset, w.data.byteLength);
  const words = packedWords(k);
  const out = new Int32Array(Math.ceil(n / 4) * kp);
  const dst = new Int8Array(out.buffer);
  for (let c = 0; c < n; c++) {
    const base = Math.floor(c / 4) * 4 * kp + (c % 4) * 16;
    for (let p = 0; p < k; p++) dst[base + Math.floor(p / 16) * 64 + (p % 16)] = src[c * words * 4 + p]!;
  }
  return { dtype: 'int32', dims: [out.length], data: out };
}

/**
 * A per-channel vector (wscale, bias; zeros when absent) of `groups` groups of n channels, each
 * padded to whole blocks of `block` channels, the unit a kernel stores at once.
 */
export function padChannels(t: Tensor | undefined, groups: number, n: number, block = 4): Tensor {
  const blocks = Math.ceil(n / block);
  const data = new Float32Array(groups * blocks * block);
  if (t) for (let g = 0; g < groups; g++) data.set(t.data.subarray(g * n, (g + 1) * n), g * blocks * block);
  return { dtype: 'float32', dims: [data.length], data };
}

/**
 * The static scale and multiplier, or zeros and the dynamic flag, then the activation: the struct
 * tail the int8-activation kernels share (qmatmul.c, qconv.c, kernels/int4/q4matmul-i8.c).
 */
export function pushScale(params: Params, actScale: number, node: Node): Params {
  const { scale, inv } = actScale > 0 ? staticScale(actScale) : { scale: 0, inv: 0 };
  return pushActivation(params.f32s(scale, inv).u32s(actScale > 0 ? 0 : 1), node);
}

const BINDINGS = [{ input: 0 }, { constant: 0 }, { constant: 1 }, { constant: 2 }, { output: 0 }, { scratch: 0 }] as const;

export function qmatmulCpuPlan(g: QMatMulGeometry, w: Tensor, wscale: Tensor, bias: Tensor | undefined, node: Node): CpuOpPlan {
  const { m, n, k } = g;
  if (m * n === 0) return { kind: 'call', calls: [] };
  const kp = paddedK(k);
  const params = pushScale(new Params().u32s(m, n, k, kp), g.actScale, node);
  return {
    kind: 'call',
    calls: [{ fn: 'qmatmul_i8', bindings: BINDINGS, uniforms: params.pack() }],
    scratch: [m * kp * 2 + m * 4],
    constants: [repackWeightBlocks(w, n, k), padChannels(wscale, 1, n), padChannels(bias, 1, n)],
  };
}

/**
 * Packed W [groups·n, ceil(K/4)] → per group [ceil(n/4)][ceil(K/2)][4][2] int16 (qconv.c): per
 * 4-channel block and tap pair, each channel's two taps side by side; zero-padded in channels and
 * in an odd K's last pair. Held in int32 words, one per channel's pair.
 */
export function repackConvWeights(w: Tensor, groups: number, n: number, k: number): Tensor {
  const k2 = Math.ceil(k / 2);
  const blocks = Math.ceil(n / 4);
  const src = new Int8Array(w.data.buffer, w.data.byteOffset, w.data.byteLength);
  const words = packedWords(k);
  const out = new Int32Array(groups * blocks * k2 * 4);
  const dst = new Int16Array(out.buffer);
  for (let g = 0; g < groups; g++) {
    for (let c = 0; c < n; c++) {
      const row = (g * n + c) * words * 4;
      const base = (g * blocks + Math.floor(c / 4)) * k2 * 8 + (c % 4) * 2;
      for (let t = 0; t < k; t++) dst[base + (t >> 1) * 8 + (t & 1)] = src[row + t]!;
    }
  }
  return { dtype: 'int32', dims: [out.length], data: out };
}

/** Output pixels per im2row chunk: about 32 KiB of quads (4 bytes per pixel and tap pair), whole 2-quad tiles. */
const pixelChunk = (k2: number, pixels: number): number => Math.min(Math.ceil(pixels / 4) * 4, Math.max(8, Math.floor(8192 / k2) & ~7));

export function qconvCpuPlan(g: QConvGeometry, w: Tensor, wscale: Tensor, bias: Tensor | undefined, node: Node): CpuOpPlan {
  const coutG = g.cOut / g.group;
  return qconvKernelPlan(g, node, {
    fn: 'qconv_i8', k2: Math.ceil(g.k / 2), q4Groups: 0,
    constants: [repackConvWeights(w, g.group, coutG, g.k), padChannels(wscale, g.group, coutG), padChannels(bias, g.group, coutG)],
  });
}

/**
 * A call of qconv.c: qconv_i8 (QConv), or qconv_q4 (Q4Conv with a static int8 scale: `q4Groups`
 * groups of 32 taps, `k2` = 16 per group), with its constants (weights as repackConvWeights lays
 * them out, the per-channel or per-channel-and-group scale table, bias).
 */
export function qconvKernelPlan(g: QConvGeometry, node: Node, kernel: { fn: string; k2: number; q4Groups: number; constants: Tensor[] }): CpuOpPlan {
  const [h, wd] = g.inSpatial as [number, number];
  const [ho, wo] = g.outSpatial as [number, number];
  const pixels = ho * wo;
  if (g.batch * g.cOut * pixels === 0) return { kind: 'call', calls: [] };
  const { k2 } = kernel;
  const coutG = g.cOut / g.group;
  const hp = h + g.padsBegin[0]! + g.padsEnd[0]!;
  const wp = wd + g.padsBegin[1]! + g.padsEnd[1]!;
  const chunk = pixelChunk(k2, pixels);
  const params = new Params()
    .u32s(g.batch, g.cIn, h, wd, g.cOut, ho, wo, ...g.kernel)
    .i32s(...g.strides, ...g.padsBegin, ...g.dilations)
    .u32s(g.group, g.cIn / g.group, coutG, g.k, k2, hp, wp, chunk);
  const planes = Math.ceil((g.cIn * hp * wp) / 8) * 8;
  return {
    kind: 'call',
    calls: [{ fn: kernel.fn, bindings: BINDINGS, uniforms: pushScale(params, g.actScale, node).u32s(kernel.q4Groups).pack() }],
    scratch: [2 * (planes + chunk * k2 * 2) + 4 * g.k],
    constants: kernel.constants,
  };
}
