import { sizeOf, type Tensor } from '../../core/tensor.js';
import { activateAll } from '../matmul/epilogue.js';
import type { OpDef } from '../op.js';
import { qconvCpuPlan } from './cpu.js';
import { qconvGeometry } from './geometry.js';
import { amaxProgram, gpuRowWords, im2rowParams, padPackedRows, prepassProgram, qgemmProgram, withIm2rowCommon, type ScaleSource } from './gpu.js';
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
    return {
      kind: 'dispatch',
      programs: [
        ...(dynamic ? [amaxProgram({ input: 0 }, { scratch: 1 }, g.cIn * h * wd, g.batch)] : []),
        prepassProgram(withIm2rowCommon(im2rowSrc), { input: 0 }, { scratch: 0 }, scale, im2rowParams(g, g.k, words, total, pool2x2), total),
        qgemmProgram({
          m: pixels, n: coutG, k: g.k, group: g.group, z: g.batch * g.group, aq: { scratch: 0 }, wq: { constant: 0 },
          wscale: { input: 2 }, bias: bias ? { input: 3 } : { constant: 1 },
          out: { perRow: 1, perCol: outPixels, perBatch: g.cOut * outPixels, perGroup: coutG * outPixels },
          aWordsPerZ: pixels * words, scale, node, features, pool2x2,
        }),
      ],
      scratch: [Math.max(16, total * 4), ...(dynamic ? [Math.max(16, g.batch * 8)] : [])],
      constants: [padPackedRows(w!.value!, g.cOut, g.k), ...(bias ? [] : [zeros(g.cOut)])],
    };
  },
  cpu({ inputs: [x, w, wscale, bias], node }) {
    const g = qconvGeometry(x!, w, wscale, bias, node.attrs);
    return qconvCpuPlan(g, w!.value!, wscale!.value!, bias?.value, node);
  },
};
