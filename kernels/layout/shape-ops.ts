import { ShapeError } from '../../core/errors.js';
import { attrInt, attrTensor } from '../../core/ir/graph.js';
import { allocData, sizeOf, tensor, type Tensor } from '../../core/tensor.js';
import type { OpContext, OpDef } from '../op.js';
import { fmt, intsOf, scalarOf, valueOf, type Operand } from './common.js';

/**
 * Ops whose outputs depend only on dims or on small inputs known at load. The planner folds them
 * with the reference (Shape and Size even when their input is only known at run time), so they
 * have no kernels; `constInputs` makes the planner report clearly when their inputs are not known at
 * load.
 */

/** Shape's [start, end) window over the dims (opset 15): negative counts from the end, clamped. */
function shapeWindow(rank: number, { node, opset }: OpContext): [number, number] {
  if (opset < 15) return [0, rank];
  const clampAxis = (a: number): number => Math.min(Math.max(a < 0 ? a + rank : a, 0), rank);
  const start = clampAxis(attrInt(node.attrs, 'start', 0));
  const end = clampAxis(attrInt(node.attrs, 'end', rank));
  return [start, Math.max(start, end)];
}

const Shape: OpDef = {
  shape([x], ctx) {
    const [start, end] = shapeWindow(x!.dims.length, ctx);
    return [{ dtype: 'int64', dims: [end - start] }];
  },
  reference([x], ctx) {
    const [start, end] = shapeWindow(x!.dims.length, ctx);
    return [tensor('int64', [end - start], x!.dims.slice(start, end))];
  },
};

const Size: OpDef = {
  shape: () => [{ dtype: 'int64', dims: [] }],
  reference: ([x]) => [tensor('int64', [], [sizeOf(x!.dims)])],
};

function fillValue(ctx: OpContext): Tensor {
  const value = attrTensor(ctx.node.attrs, 'value') ?? tensor('float32', [1], [0]);
  if (value.data.length !== 1) throw new ShapeError(`ConstantOfShape value must hold one element, got dims ${fmt(value.dims)}`);
  return value;
}

function targetDims([shape]: readonly Operand[]): number[] {
  const dims = intsOf(shape, 'ConstantOfShape shape');
  if (dims.some((d) => d < 0)) throw new ShapeError(`ConstantOfShape shape ${fmt(dims)} has a negative dim`);
  return dims;
}

const ConstantOfShape: OpDef = {
  shape: (inputs, ctx) => [{ dtype: fillValue(ctx).dtype, dims: targetDims(inputs) }],
  reference(inputs, ctx) {
    const value = fillValue(ctx);
    const dims = targetDims(inputs);
    const data = allocData(value.dtype, sizeOf(dims));
    data.fill(value.data[0]!);
    return [{ dtype: value.dtype, dims, data }];
  },
  constInputs: [0],
};

function rangeCount(inputs: readonly Operand[]): number {
  const [start, limit, delta] = ['start', 'limit', 'delta'].map((w, i) => scalarOf(inputs[i], `Range ${w}`)) as [number, number, number];
  if (delta === 0) throw new ShapeError('Range delta must not be 0');
  return Math.max(Math.ceil((limit - start) / delta), 0);
}

const Range: OpDef = {
  shape: (inputs) => [{ dtype: inputs[0]!.dtype, dims: [rangeCount(inputs)] }],
  reference(inputs) {
    const n = rangeCount(inputs);
    const dtype = inputs[0]!.dtype;
    const data = allocData(dtype, n);
    // Accumulated like onnxruntime (value += delta in the element type), not start + i·delta.
    let v = valueOf(inputs[0])!.data[0]!;
    const delta = valueOf(inputs[2])!.data[0]!;
    for (let i = 0; i < n; i++) {
      data[i] = v;
      v = dtype === 'float32' ? Math.fround(v + delta) : v + delta;
    }
    return [{ dtype, dims: [n], data }];
  },
  constInputs: [0, 1, 2],
};

export const shapeOps: Record<string, OpDef> = { Shape, Size, ConstantOfShape, Range };
