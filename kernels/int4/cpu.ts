import type { Node } from '../../core/ir/graph.js';
import type { BindingRef, CpuOpPlan, GpuOpArgs } from '../op.js';
import { columnBlock, pushActivation } from '../matmul/cpu.js';
import { Params } from '../wgsl.js';
import { q4Geometry, type Q4Geometry } from './geometry.js';
import { pushScale } from '../quant/cpu.js';
import { GROUP, zeroPointWords } from './pack.js';
import { scaleBinding } from './scales.js';

/**
 * Below this many rows q4matmul.c runs one GEMV per row straight from the nibbles; from it on it
 * dequantizes a channel block once and runs the fp32 GEMM core. 4 is where the GEMM core's 4-row
 * tile is first full; the crossover has not been measured yet (kernels/int4/perf.ts covers M = 1, 64).
 */
export const GEMV_ROWS = 4;

/** One q4matmul.c / q4matmul-i8.c call for at most g.m rows: its export, uniforms and scratch bytes. */
export interface Q4Kernel {
  readonly fn: 'q4matmul_f32' | 'q4matmul_i8';
  readonly params: Params;
  readonly scratch: number;
}

export function q4Kernel(g: Q4Geometry, node: Node): Q4Kernel {
  const common = [g.m, g.n, g.k, g.groups, g.zeroPoints ? 1 : 0, g.bias ? 1 : 0, zeroPointWords(g.groups)];
  if (g.int8) {
    return {
      fn: 'q4matmul_i8',
      params: pushScale(new Params().u32s(...common), g.actScale, node),
      // Per row: int16 values padded to whole groups, an f32x4 accumulator, its scale, its group sums (q4matmul-i8.c).
      scratch: g.m * (g.groups * GROUP * 2 + 16 + 4 + 4 * g.groups),
    };
  }
  const gemv = g.m < GEMV_ROWS;
  const nc = gemv ? 0 : columnBlock(g.k, g.n);
  return { fn: 'q4matmul_f32', params: pushActivation(new Params().u32s(...common, nc, GEMV_ROWS), node), scratch: gemv ? 4 : 4 * g.k * nc };
}

/**
 * Bindings of the q4 kernels after A: W, the scale table, zero points and bias (absent optional
 * inputs are bound to the output, which the kernels never read for them), out, scratch.
 */
export const weightBindings = (g: Q4Geometry, scales: BindingRef): BindingRef[] =>
  [{ input: 1 }, scales, g.zeroPoints ? { input: 3 } : { output: 0 }, g.bias ? { input: 4 } : { output: 0 }, { output: 0 }, { scratch: 0 }];

/** Plans q4matmul.c (float activations) or q4matmul-i8.c (int8). */
export function q4CpuPlan(args: GpuOpArgs): CpuOpPlan {
  const g = q4Geometry(args.inputs, args.node);
  const scales = scaleBinding(args, g);
  if (g.m * g.n === 0) return { kind: 'call', calls: [] };
  const k = q4Kernel(g, args.node);
  return {
    kind: 'call',
    calls: [{ fn: k.fn, bindings: [{ input: 0 }, ...weightBindings(g, scales.ref)], uniforms: k.params.pack() }],
    scratch: [k.scratch],
    constants: scales.constants,
  };
}
