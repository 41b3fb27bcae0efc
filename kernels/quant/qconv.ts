import type { Tensor } from '../../core/tensor.js';
import { activateAll } from '../matmul/epilogue.js';
import type { OpDef } from '../op.js';
import { dispatch1d, Params } from '../wgsl.js';
import { qconvCpuPlan } from './cpu.js';
import { qconvGeometry } from './geometry.js';
import { amaxProgram, gpuRowWords, int8Program, padPackedRows, prepassProgram, qgemmProgram, type QGemmSpec, type ScaleSource } from './gpu.js';
import im2rowSrc from './im2row.wgsl';
import { unpackInt8Rows } from './pack.js';
import directSrc from './qconv-direct.wgsl';
import { qconvReference } from './reference.js';

/**
 * QConv (domain com.tessera): int8 W8A8 2-D convolution, NCHW, any group (depthwise included),
 * ONNX Conv's pads/strides/dilations/auto_pad; a static scale or a dynamic one per image.
 * Semantics and layouts: docs/compressed-formats.md. On WebGPU, a pre-pass quantizes the input
 * into channel quads for the direct kernel (qconv-direct.wgsl), or, where that kernel's 4-channel
 * quads and 8-channel blocks would be mostly padding (depthwise-like groups), im2row quantizes the
 * patches into packed int8 rows for the QMatMul GEMM with pixels as rows. The CPU has a conv core
 * of its own with 4 pixels per vector (qconv.c says why).
 */

const zeros = (n: number): Tensor => ({ dtype: 'float32', dims: [n], data: new Float32Array(n) });

/**
 * The direct kernel's weights: packed [Cout][ceil(Kc/4)] in ONNX order (c, kh, kw) re-laid out as
 * [group][kh][kw][channel quad][channel block of 8] words, each word 4 input channels of one tap
 * (within the group, from the low byte), zeros past cin/group and cout/group.
 */
function quadWeights(w: Tensor, group: number, cinG: number, coutG: number, kh: number, kw: number): Tensor {
  const taps = kh * kw;
  const k = cinG * taps;
  const values = unpackInt8Rows(w.data, group * coutG, k);
  const quads = Math.ceil(cinG / 4);
  const coPad = Math.ceil(coutG / 8) * 8;
  const data = new Int32Array(group * taps * quads * coPad);
  for (let g = 0; g < group; g++) {
    for (let co = 0; co < coutG; co++) {
      for (let ci = 0; ci < cinG; ci++) {
        for (let t = 0; t < taps; t++) {
          const i = ((g * taps + t) * quads + (ci >> 2)) * coPad + co;
          data[i] = data[i]! | ((values[(g * coutG + co) * k + ci * taps + t]! & 0xff) << (8 * (ci & 3)));
        }
      }
    }
  }
  return { dtype: 'int32', dims: [data.length], data };
}

export const QConv: OpDef = {
  constInputs: [1, 2, 3],
  shape([x, w, wscale, bias], { node }) {
    const g = qconvGeometry(x!, w, wscale, bias, node.attrs);
    return [{ dtype: 'float32', dims: [g.batch, g.cOut, ...g.outSpatial] }];
  },
  reference([x, w, wscale, bias], { node }) {
    const g = qconvGeometry(x!, w, wscale, bias, node.attrs);
    const data = qconvReference(x!, w!, wscale!, bias, g);
    activateAll(node, data);
    return [{ dtype: 'float32', dims: [g.batch, g.cOut, ...g.outSpatial], data }];
  },
  webgpu({ inputs: [x, w, wscale, bias], node, features }) {
    const g = qconvGeometry(x!, w, wscale, bias, node.attrs);
    const [h, wd] = g.inSpatial as [number, number];
    const [ho, wo] = g.outSpatial as [number, number];
    const pixels = ho * wo;
    const cinG = g.cIn / g.group;
    const coutG = g.cOut / g.group;
    const z = g.batch * g.group;
    const dynamic = g.actScale === 0;
    // Scratch: the packed rows (GEMM path only), then the per-image (s, inv) of a dynamic scale.
    const direct = coutG >= 4;
    const scalesAt = direct ? 0 : 1;
    const scale: ScaleSource = dynamic
      ? { kind: 'dynamic', scales: { scratch: scalesAt }, perRow: 0, perBatch: 1 }
      : { kind: 'static', actScale: g.actScale };
    const gemm: QGemmSpec = {
      m: pixels, n: coutG, k: g.k, group: g.group, z, aq: { scratch: 0 }, wq: { constant: 0 },
      wscale: { input: 2 }, bias: bias ? { input: 3 } : { constant: 1 },
      out: { perRow: 1, perCol: pixels, perBatch: g.cOut * pixels, perGroup: coutG * pixels },
      aWordsPerZ: pixels * gpuRowWords(g.k), scale, node, features,
    };
    const amax = dynamic ? [amaxProgram({ input: 0 }, { scratch: scalesAt }, g.cIn * h * wd, g.batch)] : [];
    const scalesScratch = dynamic ? [Math.max(16, g.batch * 8)] : [];
    // The direct kernel wastes the padding of a channel quad and of an 8-channel block: with at
    // least 4 output channels per group it does less work than im2row + GEMM even at one input
    // channel (the CNN's first layer), while depthwise groups keep the GEMM.
    if (direct) {
      const quads = Math.ceil(cinG / 4);
      const coBlocks = Math.ceil(coutG / 8);
      const pixBlocks = Math.ceil(pixels / 4);
      const conv = [h, wd, wo, ...g.kernel, ...g.strides, ...g.padsBegin, ...g.dilations, quads, coBlocks, pixBlocks, cinG, g.cIn];
      return {
        kind: 'dispatch',
        programs: [
          ...amax,
          // The kernel reads x by its own parameters: A's packed-row strides do not apply.
          int8Program({ ...gemm, aq: { input: 0 }, aWordsPerZ: 0 }, directSrc, 'f32', conv, [...dispatch1d(coBlocks * pixBlocks, 64).slice(0, 2), z] as [number, number, number]),
        ],
        scratch: scalesScratch,
        constants: [quadWeights(w!.value!, g.group, cinG, coutG, g.kernel[0]!, g.kernel[1]!), ...(bias ? [] : [zeros(g.cOut)])],
      };
    }
    const words = gpuRowWords(g.k);
    const total = z * pixels * words;
    const im2row = new Params()
      .u32s(g.cIn, h, wd, wo, ...g.kernel, ...g.strides)
      .i32s(...g.padsBegin)
      .u32s(...g.dilations, cinG, g.group, pixels, g.k, words, total);
    return {
      kind: 'dispatch',
      programs: [...amax, prepassProgram(im2rowSrc, { input: 0 }, { scratch: 0 }, scale, im2row, total), qgemmProgram(gemm)],
      scratch: [Math.max(16, total * 4), ...scalesScratch],
      constants: [padPackedRows(w!.value!, g.cOut, g.k), ...(bias ? [] : [zeros(g.cOut)])],
    };
  },
  cpu({ inputs: [x, w, wscale, bias], node }) {
    const g = qconvGeometry(x!, w, wscale, bias, node.attrs);
    return qconvCpuPlan(g, w!.value!, wscale!.value!, bias?.value, node);
  },
};
