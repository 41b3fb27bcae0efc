import { ShapeError } from '../../core/errors.js';
import { attrFloat, attrInt, attrInts, attrString } from '../../core/ir/graph.js';
import { allocData, sizeOf, stridesOf, tensor, type Tensor } from '../../core/tensor.js';
import type { OpContext, OpDef } from '../op.js';
import { dispatch1d, Params, paramsDecl, wgslType } from '../wgsl.js';
import { floatsOf, fmt, intsOf, normAxes, type Operand } from './common.js';
import template from './resize.wgsl';

/**
 * Resize (opset 10's two-input form; 11+ with roi/scales/sizes; 18's axes and aspect policy) and
 * Upsample (opset 7/9), nearest and N-linear. Everything about coordinates is resolved at load into
 * per-axis tap tables (two source indices and a weight per output coordinate), which the reference
 * and the kernel (resize.wgsl) both read, so the two can only differ in summation order.
 *
 * Arithmetic is in float32 (Math.fround) as onnxruntime does it, so that rounding ties in nearest
 * mode fall the same way.
 */

type Mode = 'nearest' | 'linear';

interface AxisTaps {
  /** Source indices per output coordinate; i0 = -1 marks extrapolation (tf_crop_and_resize). */
  readonly i0: Int32Array;
  readonly i1: Int32Array;
  /** Weight of i1 (linear); 0 in nearest mode. */
  readonly w: Float32Array;
}

interface ResizePlan {
  readonly mode: Mode;
  readonly dims: number[];
  readonly taps: AxisTaps[];
  readonly extrapolation: number;
}

const f = Math.fround;

/** Output coordinate → source coordinate, per ONNX coordinate_transformation_mode. */
function transform(mode: string, x: number, scale: number, inLen: number, outLen: number, roi: [number, number]): number {
  switch (mode) {
    case 'half_pixel': return f(f(f(x + 0.5) / scale) - 0.5);
    case 'half_pixel_symmetric': {
      const adjustment = f(outLen / f(scale * inLen));
      const offset = f(f(inLen / 2) * f(1 - adjustment));
      return f(offset + f(f(f(x + 0.5) / scale) - 0.5));
    }
    case 'pytorch_half_pixel': return outLen > 1 ? f(f(f(x + 0.5) / scale) - 0.5) : 0;
    case 'align_corners': return outLen === 1 ? 0 : f(f(x * (inLen - 1)) / (outLen - 1));
    case 'asymmetric': return f(x / scale);
    case 'tf_half_pixel_for_nn': return f(f(x + 0.5) / scale);
    case 'tf_crop_and_resize': {
      const [start, end] = roi;
      return outLen > 1
        ? f(f(start * (inLen - 1)) + f(f(x * f(f(end - start) * (inLen - 1))) / (outLen - 1)))
        : f(f(0.5 * f(start + end)) * (inLen - 1));
    }
    default: throw new ShapeError(`Resize coordinate_transformation_mode "${mode}" is not supported`);
  }
}

/** nearest_mode; `simple` is onnxruntime's rule for opset < 11 (floor, or ceil when shrinking). */
function round(mode: string, x: number, shrinking: boolean): number {
  switch (mode) {
    case 'round_prefer_floor': return Math.ceil(x - 0.5);
    case 'round_prefer_ceil': return Math.floor(x + 0.5);
    case 'floor': return Math.floor(x);
    case 'ceil': return Math.ceil(x);
    case 'simple': return shrinking ? Math.ceil(x) : Math.floor(x);
    default: throw new ShapeError(`Resize nearest_mode "${mode}" is not supported`);
  }
}

function axisTaps(
  inLen: number, outLen: number, scale: number, roi: [number, number],
  mode: Mode, ctm: string, nearestMode: string,
): AxisTaps {
  const taps: AxisTaps = { i0: new Int32Array(outLen), i1: new Int32Array(outLen), w: new Float32Array(outLen) };
  for (let x = 0; x < outLen; x++) {
    const xs = transform(ctm, x, scale, inLen, outLen, roi);
    if (ctm === 'tf_crop_and_resize' && (xs < 0 || xs > inLen - 1)) {
      taps.i0[x] = taps.i1[x] = -1;
    } else if (mode === 'nearest') {
      taps.i0[x] = taps.i1[x] = Math.min(Math.max(round(nearestMode, xs, scale < 1), 0), inLen - 1);
    } else {
      const c = Math.min(Math.max(xs, 0), inLen - 1);
      const lo = Math.floor(c);
      taps.i0[x] = lo;
      taps.i1[x] = Math.min(lo + 1, inLen - 1);
      taps.w[x] = f(c - lo);
    }
  }
  return taps;
}

/** Scales (or sizes) from inputs or attributes, per opset, over `axes` (18+) or every axis. */
function resizePlan(inputs: readonly Operand[], { node, opset }: OpContext): ResizePlan {
  const x = inputs[0]!;
  const rank = x.dims.length;
  const a = node.attrs;
  const isUpsample = node.opType === 'Upsample';
  if (rank === 0) throw new ShapeError(`${node.opType} needs an input of rank 1 or more`);
  const mode = attrString(a, 'mode', 'nearest');
  if (mode !== 'nearest' && mode !== 'linear') throw new ShapeError(`${node.opType} mode "${mode}" is not supported (nearest, linear)`);
  if (mode === 'linear' && x.dtype !== 'float32') throw new ShapeError(`${node.opType} linear needs float32 data, got ${x.dtype}`);
  if (attrInt(a, 'antialias', 0) !== 0) throw new ShapeError('Resize antialias is not supported');
  const legacy = isUpsample || opset < 11;
  const ctm = legacy ? 'asymmetric' : attrString(a, 'coordinate_transformation_mode', 'half_pixel');
  const nearestMode = legacy ? 'simple' : attrString(a, 'nearest_mode', 'round_prefer_floor');
  const axes = !legacy && opset >= 18 && attrInts(a, 'axes') ? normAxes(attrInts(a, 'axes')!, rank, 'Resize axis') : [...Array(rank).keys()];

  // Opsets 11–12 need the scales input even with sizes: exporters pass an empty tensor.
  const nonEmpty = (v: Operand): boolean => !!v && sizeOf(v.dims) > 0;
  let given: number[] | undefined;
  let sizes: number[] | undefined;
  if (isUpsample && opset < 9) given = attrInts(a, 'scales')?.slice();
  else if (legacy) given = floatsOf(inputs[1], `${node.opType} scales`);
  else if (nonEmpty(inputs[2])) given = floatsOf(inputs[2], 'Resize scales');
  if (!legacy && nonEmpty(inputs[3])) {
    if (given) throw new ShapeError('Resize takes scales or sizes, not both');
    sizes = intsOf(inputs[3], 'Resize sizes');
  }
  const count = (given ?? sizes)?.length;
  if (count === undefined) throw new ShapeError(`${node.opType} needs scales or sizes`);
  if (count !== axes.length) throw new ShapeError(`${node.opType} has ${count} scales/sizes for ${axes.length} axes`);

  const scales = new Array<number>(rank).fill(1);
  const dims = [...x.dims];
  if (given) {
    axes.forEach((ax, i) => {
      const s = f(given![i]!);
      if (!(s > 0)) throw new ShapeError(`${node.opType} scales ${fmt(given!)} must be positive`);
      scales[ax] = s;
      dims[ax] = Math.floor(f(s * x.dims[ax]!));
    });
  } else {
    const policy = attrString(a, 'keep_aspect_ratio_policy', 'stretch');
    const ratios = axes.map((ax, i) => f(sizes![i]! / x.dims[ax]!));
    if (policy !== 'stretch' && policy !== 'not_larger' && policy !== 'not_smaller') throw new ShapeError(`Resize keep_aspect_ratio_policy "${policy}" is not supported`);
    const common = policy === 'not_larger' ? Math.min(...ratios) : Math.max(...ratios);
    axes.forEach((ax, i) => {
      scales[ax] = policy === 'stretch' ? ratios[i]! : common;
      dims[ax] = policy === 'stretch' ? sizes![i]! : Math.round(f(common * x.dims[ax]!));
    });
  }
  if (dims.some((d) => d < 0)) throw new ShapeError(`${node.opType} output dims ${fmt(dims)} are negative`);

  const roiValues = ctm === 'tf_crop_and_resize' ? floatsOf(inputs[1], 'Resize roi') : [];
  if (ctm === 'tf_crop_and_resize' && roiValues.length !== 2 * axes.length) throw new ShapeError(`Resize roi must hold 2 × ${axes.length} values`);
  const roi = x.dims.map((): [number, number] => [0, 1]);
  axes.forEach((ax, i) => {
    if (roiValues.length) roi[ax] = [roiValues[i]!, roiValues[i + axes.length]!];
  });
  const taps = x.dims.map((inLen, ax) => axisTaps(inLen, dims[ax]!, scales[ax]!, roi[ax]!, mode, ctm, nearestMode));
  const extrapolation = attrFloat(a, 'extrapolation_value', 0);
  return { mode, dims, taps, extrapolation: x.dtype === 'float32' ? extrapolation : Math.trunc(extrapolation) };
}

function resizeReference(x: Tensor, plan: ResizePlan): Tensor {
  const { dims, taps } = plan;
  const strides = stridesOf(x.dims);
  const rank = dims.length;
  const data = allocData(x.dtype, sizeOf(dims));
  const coord = new Array<number>(rank).fill(0);
  for (let i = 0; i < data.length; i++) {
    if (coord.some((c, d) => taps[d]!.i0[c]! < 0)) {
      data[i] = plan.extrapolation;
    } else if (plan.mode === 'nearest') {
      data[i] = x.data[coord.reduce((s, c, d) => s + taps[d]!.i0[c]! * strides[d]!, 0)]!;
    } else {
      // Every corner of the unit cell around the source point, weighted by its distance.
      let acc = 0;
      for (let m = 0; m < 1 << rank; m++) {
        let w = 1;
        let s = 0;
        for (let d = 0; d < rank; d++) {
          const t = taps[d]!;
          const hi = (m >> d) & 1;
          w *= hi ? t.w[coord[d]!]! : 1 - t.w[coord[d]!]!;
          s += (hi ? t.i1 : t.i0)[coord[d]!]! * strides[d]!;
        }
        if (w !== 0) acc += w * x.data[s]!;
      }
      data[i] = acc;
    }
    for (let d = rank - 1; d >= 0; d--) {
      if (++coord[d]! < dims[d]!) break;
      coord[d] = 0;
    }
  }
  return { dtype: x.dtype, dims, data };
}

function resizeOp(constInputs: readonly number[]): OpDef {
  return {
    shape: (inputs, ctx) => [{ dtype: inputs[0]!.dtype, dims: resizePlan(inputs, ctx).dims }],
    reference: (inputs, ctx) => [resizeReference(inputs[0]!, resizePlan(inputs, ctx))],
    constInputs,
    webgpu({ inputs, node, opset }) {
      const x = inputs[0]!;
      const plan = resizePlan(inputs, { node, opset });
      const count = sizeOf(plan.dims);
      if (count === 0) return { kind: 'dispatch', programs: [] };
      const rank = plan.dims.length;
      const offsets = plan.dims.map((_, d) => plan.dims.slice(0, d).reduce((s, n) => s + n, 0));
      const total = plan.dims.reduce((s, n) => s + n, 0);
      const taps = new Int32Array(2 * total);
      const weights = new Float32Array(total);
      plan.taps.forEach((t, d) => {
        t.i0.forEach((v, k) => {
          taps[2 * (offsets[d]! + k)] = v;
          taps[2 * (offsets[d]! + k) + 1] = t.i1[k]!;
        });
        weights.set(t.w, offsets[d]!);
      });
      // Interpolate over the trailing axes from the first that ever mixes two different taps.
      const first = plan.mode === 'linear' ? plan.taps.findIndex((t) => t.i0.some((v, k) => v !== t.i1[k] && t.w[k] !== 0)) : -1;
      const lerpAxes = first < 0 ? 0 : rank - first;
      const elem = wgslType(x.dtype);
      const fill = new Params();
      if (elem === 'f32') fill.f32s(plan.extrapolation);
      else fill.i32s(plan.extrapolation);
      const params = new Params().u32s(count, lerpAxes, fill.pack()[0]!, 0).u32s(...plan.dims).i32s(...stridesOf(x.dims)).u32s(...offsets);
      const code = template.replaceAll('{{ELEM}}', elem).replace('{{RANK}}', String(rank)).replace('{{PARAMS}}', paramsDecl(4, params.length));
      return {
        kind: 'dispatch',
        programs: [{ code, workgroups: dispatch1d(count, 256), bindings: [{ input: 0 }, { constant: 0 }, { constant: 1 }, { output: 0 }], uniforms: params.pack() }],
        constants: [tensor('int32', [taps.length], taps), tensor('float32', [weights.length], weights)],
      };
    },
  };
}

export const resizeOps: Record<string, OpDef> = {
  Resize: resizeOp([1, 2, 3]),
  Upsample: resizeOp([1]),
};
