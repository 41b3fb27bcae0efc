import { ShapeError } from '../../core/errors.js';
import { stridesOf, type DType } from '../../core/tensor.js';
import type { CpuCall, GpuProgram } from '../op.js';
import { lanesFor, ROW_PRELUDE, rowWorkgroups, segmentReduceFn } from '../shared/segment-reduce.js';
import { paramsDecl, Params, wgslType } from '../wgsl.js';
import type { Reducer } from './reducers.js';
import reduceWgsl from './reduce.wgsl';

/** Coalesced groups the kernel's parameter block has room for, per kind (kept / reduced). */
const MAX_GROUPS = 8;
const HEADER_WORDS = 8;

interface Groups {
  readonly dims: number[];
  readonly strides: number[];
}

/**
 * Splits `dims` into kept and reduced groups: size-1 axes are dropped (they change no offset) and
 * neighbouring axes of the same kind merge into one (their offsets are one linear run). The order
 * of kept groups is the output's element order, with or without keepdims.
 */
export function coalesce(dims: readonly number[], reduced: ReadonlySet<number>): { kept: Groups; red: Groups } {
  const strides = stridesOf(dims);
  const kept: Groups = { dims: [], strides: [] };
  const red: Groups = { dims: [], strides: [] };
  let last: Groups | undefined;
  dims.forEach((d, axis) => {
    if (d === 1) return;
    const g = reduced.has(axis) ? red : kept;
    if (g === last) {
      // Merging with the previous axis: the group now spans both, with the inner axis's stride.
      g.dims[g.dims.length - 1]! *= d;
      g.strides[g.strides.length - 1] = strides[axis]!;
    } else {
      g.dims.push(d);
      g.strides.push(strides[axis]!);
    }
    last = g;
  });
  return { kept, red };
}

interface ReduceLayout {
  readonly rows: number;
  readonly rowLength: number;
  readonly lanes: number;
  /** The parameter block of reduce.wgsl and reduce.c, with `header` in words 5–7. */
  readonly params: Params;
}

/** Coalesces `dims` for a reduction over `axes` and packs the parameter block both kernels read. */
function reduceLayout(dims: readonly number[], axes: readonly number[], header: readonly [number, number, number] = [0, 0, 0]): ReduceLayout {
  const { kept, red } = coalesce(dims, new Set(axes));
  if (kept.dims.length > MAX_GROUPS || red.dims.length > MAX_GROUPS) {
    throw new ShapeError(`reduction over dims [${dims.join(', ')}] alternates kept and reduced axes more than ${MAX_GROUPS} times`);
  }
  const rows = kept.dims.reduce((a, b) => a * b, 1);
  const rowLength = red.dims.reduce((a, b) => a * b, 1);
  const lanes = lanesFor(rowLength, rows);
  const padded = (v: readonly number[]): number[] => [...v, ...new Array<number>(MAX_GROUPS - v.length).fill(0)];
  const params = new Params()
    .u32s(rows, rowLength, lanes, kept.dims.length, red.dims.length, ...header)
    .u32s(...padded(kept.dims), ...padded(kept.strides), ...padded(red.dims), ...padded(red.strides));
  return { rows, rowLength, lanes, params };
}

/**
 * One dispatch of reduce.wgsl folding `x` over `axes` with `reducer`; output element order is the
 * kept axes in order. Bindings: input `input`, output 0.
 */
export function reduceProgram(
  x: { readonly dtype: DType; readonly dims: readonly number[] },
  axes: readonly number[],
  reducer: Reducer,
  input = 0,
): GpuProgram {
  const { rows, lanes, params } = reduceLayout(x.dims, axes);
  const T = wgslType(x.dtype) === 'f32' ? 'f32' : 'i32';
  const code = `alias T = ${T};
${reducer.wgsl(T)}
${paramsDecl(2, params.length)}
const PARAM_KEPT_DIMS: u32 = ${HEADER_WORDS}u;
const PARAM_KEPT_STRIDES: u32 = ${HEADER_WORDS + MAX_GROUPS}u;
const PARAM_RED_DIMS: u32 = ${HEADER_WORDS + 2 * MAX_GROUPS}u;
const PARAM_RED_STRIDES: u32 = ${HEADER_WORDS + 3 * MAX_GROUPS}u;
${ROW_PRELUDE}
${segmentReduceFn('segment_merge', 'Acc', (a, b) => `acc_merge(${a}, ${b})`, lanes)}
${reduceWgsl}`;
  return {
    code,
    workgroups: rowWorkgroups(rows, lanes),
    bindings: [{ input }, { output: 0 }],
    uniforms: params.pack(),
  };
}

/** The CPU twin of reduceProgram: one call of reduce.c, the reducer's codes in the header. */
export function reduceCall(
  x: { readonly dtype: DType; readonly dims: readonly number[] },
  axes: readonly number[],
  reducer: Reducer,
  input = 0,
): CpuCall {
  const { fn, op, op2 } = reducer.cpu;
  const { params } = reduceLayout(x.dims, axes, [op, op2, x.dtype === 'float32' ? 0 : 1]);
  return { fn, bindings: [{ input }, { output: 0 }], uniforms: params.pack() };
}
