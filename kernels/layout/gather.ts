import { ShapeError } from '../../core/errors.js';
import { attrInt } from '../../core/ir/graph.js';
import { stridesOf, type Tensor } from '../../core/tensor.js';
import type { OpContext, OpDef } from '../op.js';
import { dot, fmt, normAxis, remap, type Operand } from './common.js';
import { stridedProgram } from './strided-kernel.js';
import { twinFaces } from './twin.js';

/**
 * Gather and GatherElements: the strided kernel (WGSL and C) with an index tensor. Indices are data here (they
 * may be computed at run time); negative ones count from the end of the axis. ONNX leaves indices
 * outside [-dim, dim) undefined: the reference rejects them, the kernel clamps to stay in bounds.
 */

function gatherAxis(inputs: readonly Operand[], { node }: OpContext, op: string): number {
  const [data, indices] = inputs;
  if (indices!.dtype !== 'int32' && indices!.dtype !== 'int64') throw new ShapeError(`${op} indices must be int32 or int64, got ${indices!.dtype}`);
  return normAxis(attrInt(node.attrs, 'axis', 0), data!.dims.length, `${op} axis`);
}

function gatherDims(inputs: readonly Operand[], ctx: OpContext): { axis: number; dims: number[] } {
  const [data, indices] = inputs;
  const axis = gatherAxis(inputs, ctx, 'Gather');
  return { axis, dims: [...data!.dims.slice(0, axis), ...indices!.dims, ...data!.dims.slice(axis + 1)] };
}

/** An index made non-negative, checked against the axis length. */
function resolveIndex(j: number, dim: number, op: string): number {
  const k = j < 0 ? j + dim : j;
  if (k < 0 || k >= dim) throw new RangeError(`${op} index ${j} is out of range for an axis of ${dim}`);
  return k;
}

const Gather: OpDef = {
  shape(inputs, ctx) {
    return [{ dtype: inputs[0]!.dtype, dims: gatherDims(inputs, ctx).dims }];
  },
  reference(inputs, ctx) {
    const data: Tensor = inputs[0]!;
    const indices: Tensor = inputs[1]!;
    const { axis, dims } = gatherDims(inputs, ctx);
    const q = indices.dims.length;
    const strides = stridesOf(data.dims);
    const idxStrides = stridesOf(indices.dims);
    return [remap(data, dims, (c) => {
      const j = resolveIndex(indices.data[dot(c.slice(axis, axis + q), idxStrides)]!, data.dims[axis]!, 'Gather');
      return dot([...c.slice(0, axis), j, ...c.slice(axis + q)], strides);
    })];
  },
  ...twinFaces(({ inputs, outputs: [out], node, opset }) => {
    const [data, indices] = inputs;
    const { axis } = gatherDims(inputs, { node, opset });
    const q = indices!.dims.length;
    const strides = stridesOf(data!.dims);
    const idxStrides = stridesOf(indices!.dims);
    const axes = out!.dims.map((n, d) => {
      if (d < axis) return { n, srcStride: strides[d]! };
      if (d < axis + q) return { n, srcStride: 0, idxStride: idxStrides[d - axis]! };
      return { n, srcStride: strides[d - q + 1]! };
    });
    const gather = { input: 1, dim: data!.dims[axis]!, stride: strides[axis]! };
    return { kind: 'dispatch', programs: stridedProgram({ dtype: data!.dtype, src: 0, dst: 0, axes, gather }) };
  }),
};

function elementsAxis(inputs: readonly Operand[], ctx: OpContext): number {
  const [data, indices] = inputs;
  const axis = gatherAxis(inputs, ctx, 'GatherElements');
  if (indices!.dims.length !== data!.dims.length || indices!.dims.some((d, i) => i !== axis && d > data!.dims[i]!)) {
    throw new ShapeError(`GatherElements indices ${fmt(indices!.dims)} do not fit data ${fmt(data!.dims)} off axis ${axis}`);
  }
  return axis;
}

const GatherElements: OpDef = {
  shape(inputs, ctx) {
    elementsAxis(inputs, ctx);
    return [{ dtype: inputs[0]!.dtype, dims: inputs[1]!.dims }];
  },
  reference(inputs, ctx) {
    const data: Tensor = inputs[0]!;
    const indices: Tensor = inputs[1]!;
    const axis = elementsAxis(inputs, ctx);
    const strides = stridesOf(data.dims);
    const idxStrides = stridesOf(indices.dims);
    return [remap(data, indices.dims, (c) => {
      const j = resolveIndex(indices.data[dot(c, idxStrides)]!, data.dims[axis]!, 'GatherElements');
      return dot(c.map((ci, d) => (d === axis ? j : ci)), strides);
    })];
  },
  ...twinFaces(({ inputs, outputs: [out], node, opset }) => {
    const [data, indices] = inputs;
    const axis = elementsAxis(inputs, { node, opset });
    const strides = stridesOf(data!.dims);
    const idxStrides = stridesOf(indices!.dims);
    const axes = out!.dims.map((n, d) => ({ n, srcStride: d === axis ? 0 : strides[d]!, idxStride: idxStrides[d]! }));
    const gather = { input: 1, dim: data!.dims[axis]!, stride: strides[axis]! };
    return { kind: 'dispatch', programs: stridedProgram({ dtype: data!.dtype, src: 0, dst: 0, axes, gather }) };
  }),
};

export const gatherOps: Record<string, OpDef> = { Gather, GatherElements };
