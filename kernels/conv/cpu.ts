import { UnsupportedOpError } from '../../core/errors.js';
import type { Node } from '../../core/ir/graph.js';
import { sizeOf, type Tensor } from '../../core/tensor.js';
import type { CpuOpPlan, GpuOpArgs } from '../op.js';
import { columnBlock, pushActivation } from '../matmul/cpu.js';
import { Params } from '../wgsl.js';
import { convGeometry, convTransposeGeometry, type ConvGeometry } from './geometry.js';

/**
 * CPU plans for Conv and ConvTranspose: depthwise.c for one input channel per group, conv2d.c
 * (GEMM over gemm-core.h, 1x1 read in place, else blocked im2col) for the rest, conv-transpose.c.
 * Weights and bias are known at load (constInputs), so they are re-packed here once.
 */

function twoD(g: ConvGeometry, node: Node): (a: readonly number[], fill: number) => [number, number] {
  if (g.kernel.length > 2) {
    throw new UnsupportedOpError([{ opType: node.opType, domain: node.domain, node: node.name, reason: `${g.kernel.length}-D convolution runs only on the reference backend` }]);
  }
  return (a, fill) => (a.length === 1 ? [fill, a[0]!] : [a[0]!, a[1]!]);
}

interface ConvExtras {
  readonly pointwise?: boolean;
  readonly nc?: number;
  readonly hp?: number;
  readonly wp?: number;
}

/** conv-params.h's ConvU. */
function convCpuParams(g: ConvGeometry, node: Node, extras: ConvExtras = {}): Uint32Array {
  const two = twoD(g, node);
  const params = new Params()
    .u32s(g.batch, g.cIn, ...two(g.inSpatial, 1), g.cOut, ...two(g.outSpatial, 1), ...two(g.kernel, 1))
    .i32s(...two(g.strides, 1), ...two(g.padsBegin, 0), ...two(g.dilations, 1))
    .u32s(g.group, g.cIn / g.group, g.cOut / g.group, extras.pointwise ? 1 : 0, extras.nc ?? 0, extras.hp ?? 0, extras.wp ?? 0);
  return pushActivation(params, node).pack();
}

const f32 = (data: Float32Array): Tensor => ({ dtype: 'float32', dims: [data.length], data });

function denseBias(bias: Tensor | undefined, cOut: number): Tensor {
  return bias ?? f32(new Float32Array(cOut));
}

/** W [cOut][cinG][taps] → per group [ceil(coutG/4)][cinG*taps][4], zero-padded: gemm_core's packed A. */
function packWeightTiles(w: Tensor, g: ConvGeometry): Tensor {
  const m = g.cOut / g.group;
  const k = (g.cIn / g.group) * sizeOf(g.kernel);
  const m4 = Math.ceil(m / 4) * 4;
  const out = new Float32Array(g.group * m4 * k);
  for (let grp = 0; grp < g.group; grp++) {
    for (let co = 0; co < m; co++) {
      const base = grp * m4 * k + Math.floor(co / 4) * 4 * k + (co % 4);
      const src = (grp * m + co) * k;
      for (let p = 0; p < k; p++) out[base + p * 4] = w.data[src + p]!;
    }
  }
  return f32(out);
}

export function convCpuPlan({ inputs: [x, w, b], node }: GpuOpArgs): CpuOpPlan {
  const g = convGeometry(x!.dims, w!.dims, node.attrs);
  const two = twoD(g, node);
  const bindings = [{ input: 0 }, { constant: 0 }, { constant: 1 }, { output: 0 }, { scratch: 0 }] as const;
  const bias = denseBias(b?.value, g.cOut);
  const pixels = sizeOf(g.outSpatial);
  if (g.batch * g.cOut * pixels === 0) return { kind: 'call', calls: [] };
  if (g.cIn / g.group === 1 && g.group > 1) {
    const [kh, kw] = two(g.kernel, 1);
    const [sh, sw] = two(g.strides, 1);
    const [dh, dw] = two(g.dilations, 1);
    const [ho, wo] = two(g.outSpatial, 1);
    // Rows and columns the taps of every output vector reach (depthwise.c reads whole f32x4s).
    const hp = (ho - 1) * sh + (kh - 1) * dh + 1;
    const wp = Math.ceil(wo / 4) * 4 * sw + (kw - 1) * dw;
    return {
      kind: 'call',
      calls: [{ fn: 'depthwise_f32', bindings, uniforms: convCpuParams(g, node, { hp, wp }) }],
      scratch: [hp * wp * 4],
      constants: [w!.value!, bias],
    };
  }
  const k = (g.cIn / g.group) * sizeOf(g.kernel);
  const pointwise = g.kernel.every((d) => d === 1) && g.strides.every((s) => s === 1) && [...g.padsBegin, ...g.padsEnd].every((p) => p === 0);
  const nc = columnBlock(k, pixels);
  // Padded input planes for im2col (conv2d.c copies them only when some pad is non-zero).
  const [h, wd] = two(g.inSpatial, 1);
  const [ph0, pw0] = two(g.padsBegin, 0);
  const [ph1, pw1] = two(g.padsEnd, 0);
  const [hp, wp] = [h + ph0 + ph1, wd + pw0 + pw1];
  const padFloats = hp !== h || wp !== wd ? Math.ceil(((g.cIn / g.group) * hp * wp) / 4) * 4 : 0;
  return {
    kind: 'call',
    calls: [{ fn: 'conv2d_f32', bindings, uniforms: convCpuParams(g, node, { pointwise, nc, hp, wp }) }],
    scratch: [4 * (padFloats + k * nc)],
    constants: [packWeightTiles(w!.value!, g), bias],
  };
}

export function convTransposeCpuPlan({ inputs: [x, w, b], node }: GpuOpArgs): CpuOpPlan {
  const g = convTransposeGeometry(x!.dims, w!.dims, node.attrs);
  if (g.batch * g.cOut * sizeOf(g.outSpatial) === 0) return { kind: 'call', calls: [] };
  return {
    kind: 'call',
    calls: [{ fn: 'conv_transpose_f32', bindings: [{ input: 0 }, { constant: 0 }, { constant: 1 }, { output: 0 }], uniforms: convCpuParams(g, node) }],
    constants: [w!.value!, denseBias(b?.value, g.cOut)],
  };
}
