import { ShapeError } from '../../core/errors.js';
import { allocData, sizeOf, type DType, type Tensor } from '../../core/tensor.js';
import type { KnownValue } from '../op.js';

/**
 * Helpers shared by the layout ops. Every op resolves its attributes and shape-like inputs once, in
 * a function that accepts what each face of the OpDef sees: `KnownValue` at planning (with `.value`
 * where known at load) and `Tensor` in the reference. Keeping one resolver per op is what keeps the
 * three faces agreeing on semantics.
 */

export type Operand = KnownValue | Tensor | undefined;

/** The data behind an operand, if it is known (always, for a reference input). */
export function valueOf(v: Operand): Tensor | undefined {
  if (!v) return undefined;
  return 'data' in v ? v : v.value;
}

export function fmt(dims: readonly number[]): string {
  return `[${dims.join(', ')}]`;
}

/** An integer tensor input that must be known (at load, or in the reference). */
export function intsOf(v: Operand, what: string): number[] {
  const t = valueOf(v);
  if (!t) throw new ShapeError(`${what} must be known at load`);
  if (t.dtype === 'float32' || t.dtype === 'bool') throw new ShapeError(`${what} must be an integer tensor, got ${t.dtype}`);
  return Array.from(t.data);
}

/** A float tensor input that must be known (Resize scales, Upsample scales). */
export function floatsOf(v: Operand, what: string): number[] {
  const t = valueOf(v);
  if (!t) throw new ShapeError(`${what} must be known at load`);
  return Array.from(t.data);
}

/** The one element of a scalar (or 1-element) input. */
export function scalarOf(v: Operand, what: string): number {
  const t = valueOf(v);
  if (!t) throw new ShapeError(`${what} must be known at load`);
  if (t.data.length !== 1) throw new ShapeError(`${what} must hold one value, got dims ${fmt(t.dims)}`);
  return t.data[0]!;
}

/** Normalises a possibly negative axis into [0, rank). */
export function normAxis(axis: number, rank: number, what: string): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    throw new ShapeError(`${what} ${axis} is out of range for rank ${rank}`);
  }
  return axis < 0 ? axis + rank : axis;
}

/** Normalises a list of axes; repeats are an error (ONNX leaves them undefined). */
export function normAxes(axes: readonly number[], rank: number, what: string): number[] {
  const out = axes.map((a) => normAxis(a, rank, what));
  if (new Set(out).size !== out.length) throw new ShapeError(`${what} ${fmt([...axes])} repeat an axis`);
  return out;
}

/**
 * Reference building block: a tensor of `dims` whose element at each output coordinate is
 * `src.data[at(coord)]`, or `fill` where `at` returns -1. Walking coordinates keeps every op's
 * reference a direct transcription of its definition.
 */
export function remap(src: Tensor, dims: readonly number[], at: (coord: readonly number[]) => number, fill = 0, dtype: DType = src.dtype): Tensor {
  const n = sizeOf(dims);
  const data = allocData(dtype, n);
  const coord = new Array<number>(dims.length).fill(0);
  for (let i = 0; i < n; i++) {
    const j = at(coord);
    data[i] = j < 0 ? fill : src.data[j]!;
    for (let d = dims.length - 1; d >= 0; d--) {
      if (++coord[d]! < dims[d]!) break;
      coord[d] = 0;
    }
  }
  return { dtype, dims: [...dims], data };
}

/** Flat offset of a coordinate given the source's strides (precomputed by the caller: references also fold big weights at load). */
export function dot(coord: readonly number[], strides: readonly number[]): number {
  let off = 0;
  for (let d = 0; d < coord.length; d++) off += coord[d]! * strides[d]!;
  return off;
}

/** Same data, new dims: what every view op's reference returns. */
export function view(x: Tensor, dims: readonly number[]): Tensor {
  return { dtype: x.dtype, dims: [...dims], data: x.data };
}
