import { UnsupportedOpError } from '../../core/errors.js';
import type { Node } from '../../core/ir/graph.js';
import { sizeOf, type Tensor } from '../../core/tensor.js';
import type { CpuOpPlan, GpuOpArgs } from '../op.js';
import { columnBlock, pushActivation } from '../matmul/cpu.js';
import { Params } from '../wgsl.js';
import { convGeometry, convTransposeGeometry, RESIDUAL_INPUT, type ConvGeometry } from './geometry.js';

/**
 * CPU plans for Conv and ConvTranspose: depthwise.c for one input channel per group, winograd.c
 * for 1x3 / 3x1 convs, conv2d.c (GEMM over gemm-core.h: 1x1 packed as it is, else blocked im2col)
 * for the rest, conv-transpose.c.
 * Weights and bias are known at load (constInputs), so they are re-packed here once. A fused
 * residual (input RESIDUAL_INPUT) selects the `_residual` entry points of depthwise.c and
 * conv2d.c, which take it before `out`; winograd.c has none, so such a conv runs on conv2d.c.
 */

function twoD(g: ConvGeometry, node: Node): (a: readonly number[], fill: number) => [number, number] {
  if (g.kernel.length > 2) {
    throw new UnsupportedOpError([{ opType: node.opType, domain: node.domain, node: node.name, reason: `${g.kernel.length}-D convolution runs only on the reference backend` }]);
  }
  return (a, fill) => (a.length === 1 ? [fill, a[0]!] : [a[0]!, a[1]!]);
}

interface ConvExtras {
  readonly variant?: number;
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
    .u32s(g.group, g.cIn / g.group, g.cOut / g.group, extras.variant ?? 0, extras.nc ?? 0, extras.hp ?? 0, extras.wp ?? 0);
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

/** Lavin & Gray's F(4,3) weight transform G (6 x 3), applied at load. */
const WINOGRAD_G = [[1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6], [-1 / 6, 1 / 6, -1 / 6], [1 / 24, 1 / 12, 1 / 6], [1 / 24, -1 / 12, 1 / 6], [0, 0, 1]];

/**
 * winograd.c for 1x3 / 3x1 / 1-D 3-tap convs with stride and dilation 1 and one group, where the
 * channel counts make the GEMM dominate the transforms; undefined otherwise.
 */
function winogradPlan(g: ConvGeometry, node: Node, w: Tensor, bias: Tensor): CpuOpPlan | undefined {
  const two = twoD(g, node);
  const [kh, kw] = two(g.kernel, 1);
  const alongH = kh === 3 && kw === 1;
  if (g.group !== 1 || !(alongH || (kh === 1 && kw === 3)) || g.cIn < 8 || g.cOut < 8) return undefined;
  if (!g.strides.every((s) => s === 1) || !g.dilations.every((d) => d === 1)) return undefined;
  const [ho, wo] = two(g.outSpatial, 1);
  const tilesL = Math.ceil((alongH ? ho : wo) / 4);
  const tiles = tilesL * (alongH ? wo : ho);
  // Padded planes: the other axis exactly as the output needs it, the tap axis to 4 * tiles + 2.
  const [hp, wp] = alongH ? [4 * tilesL + 2, wo] : [ho, 4 * tilesL + 2];
  const nc = Math.max(8, Math.min(Math.ceil(tiles / 8) * 8, Math.floor(49152 / (6 * (g.cIn + g.cOut)) / 8) * 8));
  const m4 = Math.ceil(g.cOut / 4) * 4;
  const u = new Float32Array(6 * m4 * g.cIn);
  for (let co = 0; co < g.cOut; co++) {
    for (let ci = 0; ci < g.cIn; ci++) {
      const taps = [0, 1, 2].map((j) => w.data[(co * g.cIn + ci) * 3 + j]!);
      WINOGRAD_G.forEach((row, x) => {
        u[(x * m4 + Math.floor(co / 4) * 4) * g.cIn + ci * 4 + (co % 4)] = row[0]! * taps[0]! + row[1]! * taps[1]! + row[2]! * taps[2]!;
      });
    }
  }
  const scratch = Math.ceil((g.cIn * hp * wp) / 4) * 4 + 6 * (g.cIn + g.cOut) * nc;
  return {
    kind: 'call',
    calls: [{ fn: 'conv_winograd_f32', bindings: [{ input: 0 }, { constant: 0 }, { constant: 1 }, { output: 0 }, { scratch: 0 }], uniforms: convCpuParams(g, node, { variant: alongH ? 1 : 0, nc, hp, wp }) }],
    scratch: [4 * scratch],
    constants: [f32(u), bias],
  };
}

export function convCpuPlan({ inputs, node }: GpuOpArgs): CpuOpPlan {
  const [x, w, b] = inputs;
  const g = convGeometry(x!.dims, w!.dims, node.attrs);
  const two = twoD(g, node);
  const residual = inputs[RESIDUAL_INPUT] !== undefined;
  const fn = (name: string): string => (residual ? `${name}_residual_f32` : `${name}_f32`);
  const bindings = [{ input: 0 }, { constant: 0 }, { constant: 1 }, ...(residual ? [{ input: RESIDUAL_INPUT }] : []), { output: 0 }, { scratch: 0 }];
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
      calls: [{ fn: fn('depthwise'), bindings, uniforms: convCpuParams(g, node, { hp, wp }) }],
      scratch: [hp * wp * 4],
      constants: [w!.value!, bias],
    };
  }
  const winograd = residual ? undefined : winogradPlan(g, node, w!.value!, bias);
  if (winograd) return winograd;
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
    calls: [{ fn: fn('conv2d'), bindings, uniforms: convCpuParams(g, node, { variant: pointwise ? 1 : 0, nc, hp, wp }) }],
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
