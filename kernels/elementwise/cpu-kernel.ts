import { sizeOf } from '../../core/tensor.js';
import type { BindingRef, CpuCall } from '../op.js';
import { broadcastStrides } from '../shared/broadcast.js';
import { Params } from '../wgsl.js';

/**
 * Plans calls of the CPU elementwise kernel (elementwise.c): one generic broadcasting kernel per
 * arity, driven by an op code and per-operand strides. Its uniforms are not the WGSL kernel's: the
 * WGSL one specialises its text on each operand's read mode, the C one is compiled once and gets
 * the shape pre-digested instead (axes merged so that the innermost one is a row every operand
 * reads contiguously or as one broadcast value, which is what its SIMD loops need).
 */

/** name → [code, arity]; must match EW_OPS in elementwise.c (a test compares them). */
export const CPU_OPS = {
  COPY: [0, 1],
  ADD_F32: [1, 2],
  ADD_I32: [2, 2],
  SUB_F32: [3, 2],
  SUB_I32: [4, 2],
  MUL_F32: [5, 2],
  MUL_I32: [6, 2],
  DIV_F32: [7, 2],
  DIV_I32: [8, 2],
  POW_F32: [9, 2],
  POW_I32: [10, 2],
  MAX_F32: [11, 2],
  MAX_I32: [12, 2],
  MIN_F32: [13, 2],
  MIN_I32: [14, 2],
  EQUAL_F32: [15, 2],
  EQUAL_I32: [16, 2],
  LESS_F32: [17, 2],
  LESS_I32: [18, 2],
  LESS_EQUAL_F32: [19, 2],
  LESS_EQUAL_I32: [20, 2],
  GREATER_F32: [21, 2],
  GREATER_I32: [22, 2],
  GREATER_EQUAL_F32: [23, 2],
  GREATER_EQUAL_I32: [24, 2],
  AND: [25, 2],
  OR: [26, 2],
  XOR: [27, 2],
  NOT: [28, 1],
  WHERE: [29, 3],
  CLIP_F32: [30, 3],
  CLIP_I32: [31, 3],
  RELU_F32: [32, 1],
  RELU_I32: [33, 1],
  LEAKY_RELU: [34, 1],
  SIGMOID: [35, 1],
  HARD_SIGMOID: [36, 1],
  HARD_SWISH: [37, 1],
  TANH: [38, 1],
  ERF: [39, 1],
  GELU: [40, 1],
  GELU_TANH: [41, 1],
  SQRT: [42, 1],
  EXP: [43, 1],
  LOG: [44, 1],
  RECIPROCAL: [45, 1],
  FLOOR: [46, 1],
  CEIL: [47, 1],
  ABS_F32: [48, 1],
  ABS_I32: [49, 1],
  NEG_F32: [50, 1],
  NEG_I32: [51, 1],
  SIGN_F32: [52, 1],
  SIGN_I32: [53, 1],
  F32_TO_I32: [54, 1],
  F32_TO_BOOL: [55, 1],
  I32_TO_F32: [56, 1],
  I32_TO_BOOL: [57, 1],
  POW_F32_I32: [58, 2],
  POW_I32_F32: [59, 2],
} as const satisfies Record<string, readonly [number, 1 | 2 | 3]>;

export type CpuOpName = keyof typeof CPU_OPS;

export interface CpuOperand {
  readonly dims: readonly number[];
  readonly binding: BindingRef;
}

/**
 * The output shape as the kernel walks it: size-1 axes dropped and neighbouring axes merged
 * wherever every operand steps through both as through one (contiguous, or broadcast along both).
 * Never rank 0: a scalar output is one row of length 1.
 */
export function coalesce(outDims: readonly number[], operandDims: readonly (readonly number[])[]): { dims: number[]; strides: number[][] } {
  const full = operandDims.map((d) => broadcastStrides(d, outDims));
  const dims: number[] = [];
  const strides: number[][] = operandDims.map(() => []);
  outDims.forEach((n, axis) => {
    if (n === 1) return;
    const last = dims.length - 1;
    if (last >= 0 && full.every((s, k) => strides[k]![last] === s[axis]! * n)) {
      dims[last]! *= n;
      strides.forEach((s, k) => (s[last] = full[k]![axis]!));
    } else {
      dims.push(n);
      strides.forEach((s, k) => s.push(full[k]![axis]!));
    }
  });
  if (!dims.length) {
    dims.push(1);
    strides.forEach((s) => s.push(0));
  }
  return { dims, strides };
}

/**
 * One call computing `op` over `operands` broadcast to `outDims` into output 0. `params` are the
 * op's f32 parameters (alpha, beta). Empty outputs need no call: the caller skips them.
 */
export function elementwiseCall(op: CpuOpName, operands: readonly CpuOperand[], outDims: readonly number[], params: readonly number[] = []): CpuCall {
  const [code, arity] = CPU_OPS[op];
  if (operands.length !== arity) throw new RangeError(`CPU elementwise ${op} takes ${arity} operand(s), got ${operands.length}`);
  const { dims, strides } = coalesce(outDims, operands.map((o) => o.dims));
  const u = new Params().u32s(code, dims.length).f32s(params[0] ?? 0, params[1] ?? 0).u32s(...dims);
  for (const s of strides) u.u32s(...s);
  return { fn: `elementwise_${arity}`, bindings: [...operands.map((o) => o.binding), { output: 0 }], uniforms: u.pack() };
}

/** `op` folded left over the operands (Sum, Max, …), accumulating in the output. */
export function foldCalls(op: CpuOpName, operands: readonly CpuOperand[], outDims: readonly number[]): CpuCall[] {
  if (sizeOf(outDims) === 0) return [];
  if (operands.length === 1) return [elementwiseCall('COPY', operands, outDims)];
  const acc: CpuOperand = { dims: outDims, binding: { output: 0 } };
  return operands.slice(1).map((o, k) => elementwiseCall(op, [k === 0 ? operands[0]! : acc, o], outDims));
}
