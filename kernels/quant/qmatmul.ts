import type { Tensor } from '../../core/tensor.js';
import { activateAll } from '../matmul/epilogue.js';
import type { OpDef } from '../op.js';
import { Params } from '../wgsl.js';
import { qmatmulCpuPlan } from './cpu.js';
import { qmatmulGeometry } from './geometry.js';
import { amaxProgram, gpuRowWords, gpuWeights, prepassProgram, qgemmProgram, type ScaleSource } from './gpu.js';
import quantizeRowsSrc from './quantize-rows.wgsl';
import { qmatmulReference } from './reference.js';

/**
 * QMatMul (domain com.tessera): int8 W8A8 matmul with per-output-channel weights, A quantized in
 * the kernel with a static or a per-row dynamic scale, exact int32 accumulation and a fused float
 * epilogue (bias, activation). Semantics and layouts: docs/compressed-formats.md. W, wscale and
 * bias must be known at load: the kernels read them re-laid-out.
 */

const zeros = (n: number): Tensor => ({ dtype: 'float32', dims: [n], data: new Float32Array(n) });

export const QMatMul: OpDef = {
  constInputs: [1, 2, 3],
  shape([a, w, wscale, bias], { node }) {
    return [{ dtype: 'float32', dims: qmatmulGeometry(a!, w, wscale, bias, node.attrs).out }];
  },
  reference([a, w, wscale, bias], { node }) {
    const g = qmatmulGeometry(a!, w, wscale, bias, node.attrs);
    const data = qmatmulReference(a!, w!, wscale!, bias, g);
    activateAll(node, data);
    return [{ dtype: 'float32', dims: g.out, data }];
  },
  webgpu({ inputs: [a, w, wscale, bias], node, features }) {
    const g = qmatmulGeometry(a!, w, wscale, bias, node.attrs);
    const { m, n, k } = g;
    const words = gpuRowWords(k);
    const dynamic = g.actScale === 0;
    const scale: ScaleSource = dynamic
      ? { kind: 'dynamic', scales: { scratch: 1 }, perRow: 1, perBatch: 0 }
      : { kind: 'static', actScale: g.actScale };
    return {
      kind: 'dispatch',
      programs: [
        ...(dynamic ? [amaxProgram({ input: 0 }, { scratch: 1 }, k, m)] : []),
        prepassProgram(quantizeRowsSrc, { input: 0 }, { scratch: 0 }, scale, new Params().u32s(k, words, m * words), m * words),
        qgemmProgram({
          m, n, k, group: 1, z: 1, aq: { scratch: 0 }, wq: { constant: 0 }, wscale: { input: 2 },
          bias: bias ? { input: 3 } : { constant: 1 }, out: { perRow: n, perCol: 1, perBatch: 0, perGroup: 0 },
          aWordsPerZ: 0, scale, node, features,
        }),
      ],
      scratch: [Math.max(16, m * words * 4), ...(dynamic ? [Math.max(16, m * 8)] : [])],
      constants: [gpuWeights(w!.value!, 1, n, k), ...(bias ? [] : [zeros(n)])],
    };
  },
  cpu({ inputs: [a, w, wscale, bias], node }) {
    const g = qmatmulGeometry(a!, w, wscale, bias, node.attrs);
    return qmatmulCpuPlan(g, w!.value!, wscale!.value!, bias?.value, node);
  },
};
