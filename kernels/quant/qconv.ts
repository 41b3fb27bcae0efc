import { sizeOf, type Tensor } from '../../core/tensor.js';
import { activateAll } from '../matmul/epilogue.js';
import type { OpDef } from '../op.js';
import { qconvCpuPlan } from './cpu.js';
import { qconvGeometry } from './geometry.js';
import { amaxProgram, gpuRowWords, gpuWeights, im2rowParams, packedIm2rowProgram, prepassProgram, qgemmProgram, withIm2rowCommon, type ScaleSource } from './gpu.js';
import { packInt8Rows, unpackInt8Rows } from './pack.js';
import im2rowSrc from './im2row.wgsl';
import { qconvReference } from './reference.js';

/**
 * QConv (domain com.tessera): int8 W8A8 2-D convolution, NCHW, any group (depthwise included),
 * ONNX Conv's pads/strides/dilations/auto_pad; a static scale or a dynamic one per image.
 * Semantics and layouts: docs/compressed-formats.md. WebGPU lowers it to an im2row pre-pass that
 * quantizes the patches into packed int8 rows, then the QMatMul GEMM with pixels as rows; the CPU
 * has a conv core of its own with 4 pixels per vector (qconv.c says why).
 */

/** The attribute that tells QConv's WebGPU kernel to pool its output (see qgemm-common.wgsl); set by core/runtime/webgpu/pool-fusion.ts. */
export const POOL2X2_ATTR = '_pool2x2';

/**
 * Set by core/runtime/webgpu/packed-fusion.ts on a QConv whose only reader is a QConv with a static
 * scale: that scale, with which this one stores its output as int8 words (qgemm-common.wgsl, PACK_OUT).
 */
export const PACK_OUT_ATTR = '_packOut';
/** Set on that reader: its input X is those words, gathered by im2row-packed.wgsl. */
export const PACKED_IN_ATTR = '_packedIn';

/** Packed weight rows [cout, ceil(K/4)] with K from ONNX's (c, kh, kw) order to (kh, kw, c), im2row-packed.wgsl's. */
function tapsMajor(w: Tensor, cout: number, cinG: number, taps: number): Tensor {
  const k = cinG * taps;
  const from = unpackInt8Rows(w.data, cout, k);
  const to = new Int8Array(from.length);
  for (let r = 0; r < cout; r++) {
    for (let c = 0; c < cinG; c++) for (let t = 0; t < taps; t++) to[r * k + t * cinG + c] = from[r * k + c * taps + t]!;
  }
  const data = packInt8Rows(to, cout, k);
  return { dtype: 'int32', dims: [cout, data.length / cout], data };
}

const zeros = (n: number): Tensor => ({ dtype: 'float32', dims: [n], data: new Float32Array(n) });

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
    const pixels = sizeOf(g.outSpatial);
    const coutG = g.cOut / g.group;
    const words = gpuRowWords(g.k);
    const total = g.batch * g.group * pixels * words;
    const dynamic = g.actScale === 0;
    const scale: ScaleSource = dynamic
      ? { kind: 'dynamic', scales: { scratch: 1 }, perRow: 0, perBatch: 1 }
      : { kind: 'static', actScale: g.actScale };
    // Set by fusePooledQConvs on WebGPU plans only: the output is the 2x2 MaxPool's, a quarter the pixels.
    const pool2x2 = node.attrs[POOL2X2_ATTR] === 1;
    const outPixels = pool2x2 ? pixels / 4 : pixels;
    const packOut = node.attrs[PACK_OUT_ATTR] as number | undefined;
    const packedIn = node.attrs[PACKED_IN_ATTR] === 1;
    const patches = packedIn
      ? packedIm2rowProgram({ input: 0 }, { scratch: 0 }, g, g.k, words, total, pool2x2)
      : prepassProgram(withIm2rowCommon(im2rowSrc), { input: 0 }, { scratch: 0 }, scale, im2rowParams(g, g.k, words, total, pool2x2), total);
    // Packed output: words of 4 channels, pixel-major (qgemm-common.wgsl).
    const out = packOut
      ? { perRow: g.cOut / 4, perCol: 0, perBatch: (outPixels * g.cOut) / 4, perGroup: coutG / 4 }
      : { perRow: 1, perCol: outPixels, perBatch: g.cOut * outPixels, perGroup: coutG * outPixels };
    return {
      kind: 'dispatch',
      programs: [
        ...(dynamic ? [amaxProgram({ input: 0 }, { scratch: 1 }, g.cIn * h * wd, g.batch)] : []),
        patches,
        qgemmProgram({
          m: pixels, n: coutG, k: g.k, group: g.group, z: g.batch * g.group, aq: { scratch: 0 }, wq: { constant: 0 },
          wscale: { input: 2 }, bias: bias ? { input: 3 } : { constant: 1 },
          out, aWordsPerZ: pixels * words, scale, node, features, pool2x2, packOut,
        }),
      ],
      scratch: [Math.max(16, total * 4), ...(dynamic ? [Math.max(16, g.batch * 8)] : [])],
      constants: [
        gpuWeights(packedIn ? tapsMajor(w!.value!, g.cOut, g.cIn / g.group, g.kernel[0]! * g.kernel[1]!) : w!.value!, g.group, coutG, g.k),
        ...(bias ? [] : [zeros(g.cOut)])],
    };
  },
  cpu({ inputs: [x, w, wscale, bias], node }) {
    const g = qconvGeometry(x!, w, wscale, bias, node.attrs);
    return qconvCpuPlan(g, w!.value!, wscale!.value!, bias?.value, node);
  },
};
