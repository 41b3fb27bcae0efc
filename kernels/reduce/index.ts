import { ShapeError } from '../../core/errors.js';
import { attrInt, attrInts, type Attrs } from '../../core/ir/graph.js';
import type { ValueInfo } from '../../core/ir/graph.js';
import { allocData, sizeOf, stridesOf, type Tensor } from '../../core/tensor.js';
import type { OpDef } from '../op.js';
import { reduceCall, reduceProgram } from './reduce-program.js';
import { argReducer, REDUCERS, type Reducer } from './reducers.js';

/**
 * Reduce* (every entry of REDUCERS) and ArgMax/ArgMin. Axes come from the optional second input
 * (ReduceSum from opset 13, the others from 18; it must be known at load) or, in older opsets,
 * from the `axes` attribute. Both are accepted whatever the opset, which is a superset of valid
 * models and keeps one code path.
 */

/** Normalises possibly negative axes against `rank`, rejecting out-of-range ones. */
export function normalizeAxes(axes: readonly number[], rank: number, opType: string): number[] {
  return [...new Set(axes.map((a) => {
    if (a < -rank || a >= rank) throw new ShapeError(`${opType}: axis ${a} is out of range for rank ${rank}`);
    return a < 0 ? a + rank : a;
  }))].sort((a, b) => a - b);
}

/**
 * The axes reduced. Empty axes mean "all axes", unless noop_with_empty_axes is set: then nothing is
 * reduced, and each output element is the reduction of the single element it came from.
 */
function reducedAxes(axesInput: { readonly data: ArrayLike<number> } | undefined, attrs: Attrs, rank: number, opType: string): number[] {
  const listed = axesInput ? Array.from(axesInput.data) : attrInts(attrs, 'axes') ?? [];
  if (listed.length === 0) return attrInt(attrs, 'noop_with_empty_axes', 0) ? [] : Array.from({ length: rank }, (_, i) => i);
  return normalizeAxes(listed, rank, opType);
}

function reducedDims(dims: readonly number[], axes: readonly number[], keepdims: boolean): number[] {
  const set = new Set(axes);
  return keepdims ? dims.map((d, i) => (set.has(i) ? 1 : d)) : dims.filter((_, i) => !set.has(i));
}

/** The reference: gathers each output's row in input order, then folds it with `reducer.ref`. */
function reduceReference(x: Tensor, axes: readonly number[], keepdims: boolean, reducer: Reducer): Tensor {
  const outDims = reducedDims(x.dims, axes, keepdims);
  const set = new Set(axes);
  const keptStrides = stridesOf(x.dims.filter((_, i) => !set.has(i)));
  const rows: number[][] = Array.from({ length: sizeOf(outDims) }, () => []);
  const coord = new Array<number>(x.dims.length).fill(0);
  for (let i = 0; i < x.data.length; i++) {
    let o = 0;
    let k = 0;
    x.dims.forEach((_, d) => {
      if (!set.has(d)) o += coord[d]! * keptStrides[k++]!;
    });
    rows[o]!.push(x.data[i]!);
    for (let d = x.dims.length - 1; d >= 0; d--) {
      if (++coord[d]! < x.dims[d]!) break;
      coord[d] = 0;
    }
  }
  const dtype = reducer.index ? 'int64' : x.dtype;
  const data = allocData(dtype, rows.length);
  rows.forEach((row, i) => (data[i] = reducer.ref(row, x.dtype !== 'float32')));
  return { dtype, dims: outDims, data };
}

/** Everything an op needs to reduce: the axes, keepdims, and the reducer. */
interface ReduceSpec {
  readonly axes: number[];
  readonly keepdims: boolean;
  readonly reducer: Reducer;
}

function reduceOp(opType: string, spec: (x: ValueInfo, axesInput: { readonly data: ArrayLike<number> } | undefined, attrs: Attrs) => ReduceSpec): OpDef {
  const checked = (x: ValueInfo, axesInput: { readonly data: ArrayLike<number> } | undefined, attrs: Attrs): ReduceSpec => {
    const s = spec(x, axesInput, attrs);
    if (s.reducer.floatOnly && x.dtype !== 'float32') throw new ShapeError(`${opType} needs a float input, got ${x.dtype}`);
    if (x.dtype === 'bool') throw new ShapeError(`${opType} does not take bool input`);
    return s;
  };
  return {
    constInputs: [1],
    shape([x, axes], { node }) {
      const s = checked(x!, axes?.value, node.attrs);
      return [{ dtype: s.reducer.index ? 'int64' : x!.dtype, dims: reducedDims(x!.dims, s.axes, s.keepdims) }];
    },
    reference([x, axes], { node }) {
      const s = checked(x!, axes, node.attrs);
      return [reduceReference(x!, s.axes, s.keepdims, s.reducer)];
    },
    webgpu({ inputs: [x, axes], node }) {
      const s = checked(x!, axes?.value, node.attrs);
      return { kind: 'dispatch', programs: [reduceProgram(x!, s.axes, s.reducer)] };
    },
    cpu({ inputs: [x, axes], node }) {
      const s = checked(x!, axes?.value, node.attrs);
      return { kind: 'call', calls: [reduceCall(x!, s.axes, s.reducer)] };
    },
  };
}

function argOp(opType: 'ArgMax' | 'ArgMin'): OpDef {
  return reduceOp(opType, (x, _axes, attrs) => ({
    axes: normalizeAxes([attrInt(attrs, 'axis', 0)], x.dims.length, opType),
    keepdims: attrInt(attrs, 'keepdims', 1) !== 0,
    reducer: argReducer(opType === 'ArgMax' ? 'max' : 'min', attrInt(attrs, 'select_last_index', 0) !== 0),
  }));
}

export const reduceOps: Record<string, OpDef> = {
  ...Object.fromEntries(Object.entries(REDUCERS).map(([opType, reducer]) => [
    opType,
    reduceOp(opType, (x, axes, attrs) => ({
      axes: reducedAxes(axes, attrs, x.dims.length, opType),
      keepdims: attrInt(attrs, 'keepdims', 1) !== 0,
      reducer,
    })),
  ])),
  ArgMax: argOp('ArgMax'),
  ArgMin: argOp('ArgMin'),
};
