import { ShapeError } from '../../core/errors.js';
import { attrFloat, attrInt, attrInts, attrString } from '../../core/ir/graph.js';
import { stridesOf, type Tensor } from '../../core/tensor.js';
import type { OpContext, OpDef } from '../op.js';
import { broadcastDims, broadcastStrides } from '../shared/broadcast.js';
import { dot, fmt, intsOf, normAxes, remap, valueOf, type Operand } from './common.js';
import { stridedProgram, type Bound } from './strided-kernel.js';
import { twinFaces } from './twin.js';

/**
 * Ops that copy elements to new places, each a per-axis affine map from output to input coordinates:
 * Transpose (and DepthToSpace/SpaceToDepth, transposes of 6-d views), Slice, Expand, Tile, Pad. The references transcribe the ONNX definitions coordinate by
 * coordinate; one plan per op describes the same map to the generic strided kernel (WGSL and C).
 */

const sameDims = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i]);

/* ---------------------------------------------------------------- Transpose, DepthToSpace, SpaceToDepth */

/**
 * A transpose of the input seen with `viewDims` (same element count), read back with `dims`:
 * Transpose itself, and the block moves of DepthToSpace/SpaceToDepth (6-d views).
 */
interface ViewTranspose {
  readonly viewDims: readonly number[];
  readonly perm: readonly number[];
  readonly dims: readonly number[];
}

function viewTransposeOp(resolve: (x: { readonly dims: readonly number[] }, ctx: OpContext) => ViewTranspose): OpDef {
  return {
    shape: ([x], ctx) => [{ dtype: x!.dtype, dims: [...resolve(x!, ctx).dims] }],
    reference([x], ctx) {
      const { viewDims, perm, dims } = resolve(x!, ctx);
      const strides = stridesOf(viewDims);
      const permuted = perm.map((p) => strides[p]!);
      const moved = remap(x!, perm.map((p) => viewDims[p]!), (c) => dot(c, permuted));
      return [{ ...moved, dims: [...dims] }];
    },
    ...twinFaces(({ inputs: [x], node, opset }) => {
      const { viewDims, perm } = resolve(x!, { node, opset });
      // Moving only size-1 axes keeps the memory order: a view.
      const moved = perm.filter((p) => viewDims[p] !== 1);
      if (moved.every((p, i) => i === 0 || p > moved[i - 1]!)) return { kind: 'alias' };
      const strides = stridesOf(viewDims);
      const axes = perm.map((p) => ({ n: viewDims[p]!, srcStride: strides[p]! }));
      return { kind: 'dispatch', programs: stridedProgram({ dtype: x!.dtype, src: 0, dst: 0, axes }) };
    }),
  };
}

const Transpose = viewTransposeOp((x, { node }) => {
  const rank = x.dims.length;
  const perm = attrInts(node.attrs, 'perm')?.slice() ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
  if (perm.length !== rank || !sameDims([...perm].sort((a, b) => a - b), Array.from({ length: rank }, (_, i) => i))) {
    throw new ShapeError(`Transpose perm ${fmt(perm)} is not a permutation of ${rank} axes`);
  }
  return { viewDims: x.dims, perm, dims: perm.map((p) => x.dims[p]!) };
});

/** [N, C, H, W, blocksize], checking that `fits` (the op's divisibility rule) holds. */
function blockDims(x: { readonly dims: readonly number[] }, { node }: OpContext, fits: (c: number, h: number, w: number, b: number) => boolean): [number, number, number, number, number] {
  const b = attrInt(node.attrs, 'blocksize', 0);
  if (x.dims.length !== 4) throw new ShapeError(`${node.opType} needs an NCHW input, got ${fmt(x.dims)}`);
  const [n, c, h, w] = x.dims as [number, number, number, number];
  if (!(b >= 1) || !fits(c, h, w, b)) throw new ShapeError(`${node.opType} blocksize ${b} does not divide ${fmt(x.dims)}`);
  return [n, c, h, w, b];
}

/** DepthToSpace: DCR (default) takes the block from the channel's high part, CRD (opset 11+) from its low part. */
const DepthToSpace = viewTransposeOp((x, ctx) => {
  const [n, c, h, w, b] = blockDims(x, ctx, (c, _h, _w, b) => c % (b * b) === 0);
  const dims = [n, c / (b * b), h * b, w * b];
  return ctx.opset >= 11 && attrString(ctx.node.attrs, 'mode', 'DCR') === 'CRD'
    ? { viewDims: [n, c / (b * b), b, b, h, w], perm: [0, 1, 4, 2, 5, 3], dims }
    : { viewDims: [n, b, b, c / (b * b), h, w], perm: [0, 3, 4, 1, 5, 2], dims };
});

const SpaceToDepth = viewTransposeOp((x, ctx) => {
  const [n, c, h, w, b] = blockDims(x, ctx, (_c, h, w, b) => h % b === 0 && w % b === 0);
  return { viewDims: [n, c, h / b, b, w / b, b], perm: [0, 3, 5, 1, 2, 4], dims: [n, c * b * b, h / b, w / b] };
});

/* ---------------------------------------------------------------- Slice */

interface SliceAxis {
  readonly start: number;
  readonly step: number;
  readonly count: number;
}

/** Per input axis: first index, step and count, after ONNX's negative-index and clamping rules. */
function sliceAxes(inputs: readonly Operand[], { node, opset }: OpContext): SliceAxis[] {
  const dims = inputs[0]!.dims;
  const old = opset < 10;
  const starts = old ? attrInts(node.attrs, 'starts') ?? [] : intsOf(inputs[1], 'Slice starts');
  const ends = old ? attrInts(node.attrs, 'ends') ?? [] : intsOf(inputs[2], 'Slice ends');
  const rawAxes = old ? attrInts(node.attrs, 'axes') : inputs[3] ? intsOf(inputs[3], 'Slice axes') : undefined;
  const steps = !old && inputs[4] ? intsOf(inputs[4], 'Slice steps') : starts.map(() => 1);
  if (ends.length !== starts.length || steps.length !== starts.length || (rawAxes && rawAxes.length !== starts.length)) {
    throw new ShapeError(`Slice starts ${fmt([...starts])}, ends ${fmt([...ends])}, axes and steps must have equal lengths`);
  }
  const axes = normAxes(rawAxes ?? starts.map((_, i) => i), dims.length, 'Slice axis');
  const out: SliceAxis[] = dims.map((d) => ({ start: 0, step: 1, count: d }));
  axes.forEach((a, i) => {
    const dim = dims[a]!;
    const step = steps[i]!;
    if (step === 0) throw new ShapeError('Slice step must not be 0');
    const clamp = (v: number, lo: number, hi: number): number => Math.min(Math.max(v < 0 ? v + dim : v, lo), hi);
    const start = step > 0 ? clamp(starts[i]!, 0, dim) : clamp(starts[i]!, 0, dim - 1);
    const end = step > 0 ? clamp(ends[i]!, 0, dim) : clamp(ends[i]!, -1, dim - 1);
    const count = Math.max(0, Math.ceil((end - start) / step));
    out[a] = { start, step, count };
  });
  return out;
}

const Slice: OpDef = {
  shape: (inputs, ctx) => [{ dtype: inputs[0]!.dtype, dims: sliceAxes(inputs, ctx).map((a) => a.count) }],
  reference(inputs, ctx) {
    const x = inputs[0]!;
    const axes = sliceAxes(inputs, ctx);
    const strides = stridesOf(x.dims);
    return [remap(x, axes.map((a) => a.count), (c) => dot(c.map((ci, d) => axes[d]!.start + ci * axes[d]!.step), strides))];
  },
  constInputs: [1, 2, 3, 4],
  ...twinFaces(({ inputs, node, opset }) => {
    const x = inputs[0]!;
    const strides = stridesOf(x.dims);
    const axes = sliceAxes(inputs, { node, opset }).map((a, d) => ({ n: a.count, start: a.start, step: a.step, srcStride: strides[d]! }));
    return { kind: 'dispatch', programs: stridedProgram({ dtype: x.dtype, src: 0, dst: 0, axes }) };
  }),
};

/* ---------------------------------------------------------------- Expand */

function expandDims([x, shape]: readonly Operand[]): number[] {
  return broadcastDims([x!.dims, intsOf(shape, 'Expand shape')]);
}

const Expand: OpDef = {
  shape: (inputs) => [{ dtype: inputs[0]!.dtype, dims: expandDims(inputs) }],
  reference(inputs) {
    const x = inputs[0]!;
    const dims = expandDims(inputs);
    const strides = broadcastStrides(x.dims, dims);
    return [remap(x, dims, (c) => dot(c, strides))];
  },
  constInputs: [1],
  ...twinFaces(({ inputs: [x], outputs: [out] }) => {
    if (sameDims(x!.dims, out!.dims)) return { kind: 'alias' };
    const strides = broadcastStrides(x!.dims, out!.dims);
    return { kind: 'dispatch', programs: stridedProgram({ dtype: x!.dtype, src: 0, dst: 0, axes: out!.dims.map((n, d) => ({ n, srcStride: strides[d]! })) }) };
  }),
};

/* ---------------------------------------------------------------- Tile */

function repeatsOf([x, repeats]: readonly Operand[]): number[] {
  const reps = intsOf(repeats, 'Tile repeats');
  if (reps.length !== x!.dims.length || reps.some((r) => r < 0)) {
    throw new ShapeError(`Tile repeats ${fmt(reps)} must be ${x!.dims.length} non-negative counts`);
  }
  return reps;
}

const Tile: OpDef = {
  shape: (inputs) => [{ dtype: inputs[0]!.dtype, dims: repeatsOf(inputs).map((r, d) => r * inputs[0]!.dims[d]!) }],
  reference(inputs) {
    const x = inputs[0]!;
    const strides = stridesOf(x.dims);
    const dims = repeatsOf(inputs).map((r, d) => r * x.dims[d]!);
    return [remap(x, dims, (c) => dot(c.map((ci, d) => ci % x.dims[d]!), strides))];
  },
  constInputs: [1],
  ...twinFaces(({ inputs: [x], outputs: [out] }) => {
    const strides = stridesOf(x!.dims);
    const axes = out!.dims.map((n, d) => ({ n, srcDim: x!.dims[d]!, srcStride: strides[d]! }));
    return { kind: 'dispatch', programs: stridedProgram({ dtype: x!.dtype, src: 0, dst: 0, axes, bound: 'wrap' }) };
  }),
};

/* ---------------------------------------------------------------- Pad */

type PadMode = 'constant' | 'reflect' | 'edge' | 'wrap';

interface PadSpec {
  readonly mode: PadMode;
  /** Per axis: elements added before and after (negative crops). */
  readonly begin: readonly number[];
  readonly end: readonly number[];
  readonly value: number;
}

/** Pads as an attribute before opset 11, inputs (pads, constant_value) from 11, plus axes from 18. */
function padSpec(inputs: readonly Operand[], { node, opset }: OpContext): PadSpec {
  const x = inputs[0]!;
  const rank = x.dims.length;
  const mode = attrString(node.attrs, 'mode', 'constant');
  if (mode !== 'constant' && mode !== 'reflect' && mode !== 'edge' && !(mode === 'wrap' && opset >= 19)) {
    throw new ShapeError(`Pad mode "${mode}" is not supported at opset ${opset}`);
  }
  const pads = opset < 11 ? attrInts(node.attrs, 'pads')?.slice() ?? [] : intsOf(inputs[1], 'Pad pads');
  const axes = opset >= 18 && inputs[3] ? normAxes(intsOf(inputs[3], 'Pad axes'), rank, 'Pad axis') : Array.from({ length: rank }, (_, i) => i);
  if (pads.length !== 2 * axes.length) throw new ShapeError(`Pad pads ${fmt(pads)} must hold 2 × ${axes.length} values`);
  const begin = new Array<number>(rank).fill(0);
  const end = new Array<number>(rank).fill(0);
  axes.forEach((a, i) => {
    begin[a] = pads[i]!;
    end[a] = pads[i + axes.length]!;
  });
  const constant = opset < 11 ? attrFloat(node.attrs, 'value', 0) : valueOf(inputs[2])?.data[0] ?? 0;
  if (opset >= 11 && inputs[2] && !valueOf(inputs[2])) throw new ShapeError('Pad constant_value must be known at load');
  const value = x.dtype === 'float32' ? constant : x.dtype === 'bool' ? Number(constant !== 0) : Math.trunc(constant);
  x.dims.forEach((d, a) => {
    const n = d + begin[a]! + end[a]!;
    if (n < 0) throw new ShapeError(`Pad pads ${fmt(pads)} crop axis ${a} of ${fmt(x.dims)} below zero`);
    if (mode !== 'constant' && d === 0 && n > 0) throw new ShapeError(`Pad mode "${mode}" cannot pad the empty axis ${a} of ${fmt(x.dims)}`);
  });
  return { mode, begin, end, value };
}

const padDims = (x: { readonly dims: readonly number[] }, s: PadSpec): number[] => x.dims.map((d, a) => d + s.begin[a]! + s.end[a]!);

/** Where output coordinate k - begin lands in an axis of n under each mode; -1 means the constant. */
function padSource(mode: PadMode, k: number, n: number): number {
  if (k >= 0 && k < n) return k;
  switch (mode) {
    case 'constant': return -1;
    case 'edge': return k < 0 ? 0 : n - 1;
    case 'wrap': return ((k % n) + n) % n;
    case 'reflect': {
      if (n === 1) return 0;
      // Bounce off either edge until inside (pads wider than the axis reflect again).
      while (k < 0 || k >= n) k = k < 0 ? -k : 2 * (n - 1) - k;
      return k;
    }
  }
}

const PAD_BOUND: Record<PadMode, Bound> = { constant: 'fill', reflect: 'reflect', edge: 'clamp', wrap: 'wrap' };

const Pad: OpDef = {
  shape: (inputs, ctx) => [{ dtype: inputs[0]!.dtype, dims: padDims(inputs[0]!, padSpec(inputs, ctx)) }],
  reference(inputs, ctx) {
    const x: Tensor = inputs[0]!;
    const spec = padSpec(inputs, ctx);
    const strides = stridesOf(x.dims);
    return [remap(x, padDims(x, spec), (c) => {
      let off = 0;
      for (let d = 0; d < c.length; d++) {
        const k = padSource(spec.mode, c[d]! - spec.begin[d]!, x.dims[d]!);
        if (k < 0) return -1;
        off += k * strides[d]!;
      }
      return off;
    }, spec.value)];
  },
  constInputs: [1, 2, 3],
  ...twinFaces(({ inputs, outputs: [out], node, opset }) => {
    const x = inputs[0]!;
    const spec = padSpec(inputs, { node, opset });
    const strides = stridesOf(x.dims);
    const axes = out!.dims.map((n, d) => ({ n, start: -spec.begin[d]!, srcDim: x.dims[d]!, srcStride: strides[d]! }));
    return { kind: 'dispatch', programs: stridedProgram({ dtype: x.dtype, src: 0, dst: 0, axes, bound: PAD_BOUND[spec.mode], fill: spec.value }) };
  }),
};

export const rearrangeOps: Record<string, OpDef> = { Transpose, DepthToSpace, SpaceToDepth, Slice, Expand, Tile, Pad };
