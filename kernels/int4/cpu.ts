import type { CpuOpPlan, GpuOpArgs } from '../op.js';
import { columnBlock, pushActivation } from '../matmul/cpu.js';
import { Params } from '../wgsl.js';
import { q4Geometry } from './geometry.js';
import { pushScale } from '../quant/cpu.js';
import { GROUP, zeroPointWords } from './pack.js';
import { scaleBinding } from './scales.js';

/**
 * Below this many rows q4matmul.c runs one GEMV per row straight from the nibbles; from it on it
 * dequantizes a channel block once and runs the fp32 GEMM core. 4 is where the GEMM core's 4-row
 * tile is first full; the crossover has not been measured yet (kernels/int4/perf.ts covers M = 1, 64).
 */
export const GEMV_ROWS = 4;

/**
 * Plans q4matmul.c (float activations) or q4matmul-i8.c (int8); absent optional inputs are bound
 * to the output, which the kernels never read for them.
 */
export function q4CpuPlan(args: GpuOpArgs): CpuOpPlan {
  const g = q4Geometry(args.inputs, args.node);
  const scales = scaleBinding(args, g);
  if (g.m * g.n === 0) return { kind: 'call', calls: [] };
  const bindings = [{ input: 0 }, { input: 1 }, scales.ref, g.zeroPoints ? { input: 3 } : { output: 0 }, g.bias ? { input: 4 } : { output: 0 }, { output: 0 }, { scratch: 0 }];
  if (g.int8) {
    const params = pushScale(new Params().u32s(g.m, g.n, g.k, g.groups, g.zeroPoints ? 1 : 0, g.bias ? 1 : 0, zeroPointWords(g.groups)), g.actScale, args.node);
    return {
      kind: 'call',
      calls: [{ fn: 'q4matmul_i8', bindings, uniforms: params.pack() }],
      // Per row: int16 values padded to whole groups, an f32x4 accumulator, its scale, its group sums (q4matmul-i8.c).
      scratch: [g.m * (g.groups * GROUP * 2 + 16 + 4 + 4 * g.groups)],
      constants: scales.constants,
    };
  }
  const gemv = g.m < GEMV_ROWS;
  const nc = gemv ? 0 : columnBlock(g.k, g.n);
  const params = new Params()
    .u32s(g.m, g.n, g.k, g.groups, g.zeroPoints ? 1 : 0, g.bias ? 1 : 0, zeroPointWords(g.groups), nc, GEMV_ROWS);
  pushActivation(params, args.node);
  return {
    kind: 'call',
    calls: [{
      fn: 'q4matmul_f32',
      bindings,
      uniforms: params.pack(),
    }],
    scratch: [gemv ? 4 : 4 * g.k * nc],
    constants: scales.constants,
  };
}
