import { ShapeError } from '../../core/errors.js';
import { attrFloat, attrInt, attrInts, attrString } from '../../core/ir/graph.js';
import { allocData, sizeOf, stridesOf, tensor, type Tensor } from '../../core/tensor.js';
import type { OpContext, OpDef } from '../op.js';
import { dispatch1d, Params, paramsDecl, wgslType } from '../wgsl.js';
import { floatsOf, fmt, intsOf, normAxes, type Operand } from './common.js';
import template from './resize.wgsl';
import { twinFaces } from './twin.js';

/**
 * Resize (opset 10's two-input form; 11+ with roi/scales/sizes; 18's axes and aspect policy) and
 * Upsample (opset 7/9): nearest, N-linear and N-cubic. Everything about coordinates is resolved at
 * load into per-axis tap tables (K source indices and weights per output coordinate), which the
 * reference and the kernels (resize.wgsl and its C twin resize.c) all read, so they can only differ
 * by rounding: the order of the sums, and on the CPU their factoring axis by axis.
 *
 * Arithmetic is in float32 (Math.fround) as onnxruntime does it, so that rounding ties in nearest
 * mode fall the same way. Lengths in the coordinate formulas are the unrounded input × scale, as
 * in the ONNX reference (it matters for align_corners when downscaling by scales).
 */

type Mode = 'nearest' | 'linear' | 'cubic';

/** Source taps per axis and output coordinate. */
const TAPS: Record<Mode, number> = { nearest: 1, linear: 2, cubic: 4 };

interface AxisTaps {
  /** K source indices per output coordinate, all -1 where it lies outside (tf_crop_and_resize). */
  readonly idx: Int32Array;
  readonly w: Float32Array;
}

interface ResizePlan {
  readonly mode: Mode;
  readonly dims: number[];
  readonly taps: AxisTaps[];
  readonly extrapolation: number;
}

interface Coordinates {
  readonly mode: Mode;
  readonly ctm: string;
  readonly nearestMode: string;
  readonly cubicA: number;
  readonly excludeOutside: boolean;
}

const f = Math.fround;

/** Output coordinate → source coordinate, per ONNX coordinate_transformation_mode; `len` = input × scale. */
function transform(mode: string, x: number, scale: number, inLen: number, outLen: number, len: number, roi: [number, number]): number {
  switch (mode) {
    case 'half_pixel': return f(f(f(x + 0.5) / scale) - 0.5);
    case 'half_pixel_symmetric': {
      const offset = f(f(inLen / 2) * f(1 - f(outLen / len)));
      return f(offset + f(f(f(x + 0.5) / scale) - 0.5));
    }
    case 'pytorch_half_pixel': return len > 1 ? f(f(f(x + 0.5) / scale) - 0.5) : 0;
    case 'align_corners': return len === 1 ? 0 : f(f(x * (inLen - 1)) / f(len - 1));
    case 'asymmetric': return f(x / scale);
    case 'tf_half_pixel_for_nn': return f(f(x + 0.5) / scale);
    case 'tf_crop_and_resize': {
      const [start, end] = roi;
      return len > 1
        ? f(f(start * (inLen - 1)) + f(f(x * f(f(end - start) * (inLen - 1))) / f(len - 1)))
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

/** Keys' cubic convolution weights of the taps at -1, 0, +1, +2 around a point at fraction s. */
function cubicWeights(s: number, a: number): number[] {
  const far = (t: number): number => ((a * t - 5 * a) * t + 8 * a) * t - 4 * a;
  const near = (t: number): number => ((a + 2) * t - (a + 3)) * t * t + 1;
  return [far(s + 1), near(s), near(1 - s), far(2 - s)];
}

function axisTaps(inLen: number, outLen: number, scale: number, len: number, roi: [number, number], c: Coordinates): AxisTaps {
  const k = TAPS[c.mode];
  const taps: AxisTaps = { idx: new Int32Array(outLen * k), w: new Float32Array(outLen * k) };
  for (let x = 0; x < outLen; x++) {
    const xs = transform(c.ctm, x, scale, inLen, outLen, len, roi);
    const at = x * k;
    if (c.ctm === 'tf_crop_and_resize' && (xs < 0 || xs > inLen - 1)) {
      taps.idx.fill(-1, at, at + k);
    } else if (c.mode === 'nearest') {
      taps.idx[at] = Math.min(Math.max(round(c.nearestMode, xs, scale < 1), 0), inLen - 1);
      taps.w[at] = 1;
    } else {
      // Taps around floor(xs); those beyond the edges read the edge element, or with
      // exclude_outside get no weight and the others are renormalised.
      const lo = Math.floor(xs);
      const frac = xs - lo;
      const weights = c.mode === 'linear' ? [1 - frac, frac] : cubicWeights(frac, c.cubicA);
      const first = c.mode === 'linear' ? lo : lo - 1;
      let sum = 0;
      weights.forEach((w, t) => {
        const j = first + t;
        const inside = j >= 0 && j < inLen;
        taps.idx[at + t] = Math.min(Math.max(j, 0), inLen - 1);
        const kept = c.excludeOutside && !inside ? 0 : w;
        taps.w[at + t] = kept;
        sum += kept;
      });
      if (c.excludeOutside) for (let t = 0; t < k; t++) taps.w[at + t] = taps.w[at + t]! / sum;
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
  const modeName = attrString(a, 'mode', 'nearest');
  if (!Object.hasOwn(TAPS, modeName)) throw new ShapeError(`${node.opType} mode "${modeName}" is not supported (nearest, linear, cubic)`);
  const mode = modeName as Mode;
  if (mode !== 'nearest' && x.dtype !== 'float32') throw new ShapeError(`${node.opType} ${mode} needs float32 data, got ${x.dtype}`);
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
  const lens = [...x.dims];
  if (given) {
    axes.forEach((ax, i) => {
      const s = f(given![i]!);
      if (!(s > 0)) throw new ShapeError(`${node.opType} scales ${fmt(given!)} must be positive`);
      scales[ax] = s;
      lens[ax] = f(s * x.dims[ax]!);
      dims[ax] = Math.floor(lens[ax]!);
    });
  } else {
    const policy = attrString(a, 'keep_aspect_ratio_policy', 'stretch');
    const ratios = axes.map((ax, i) => f(sizes![i]! / x.dims[ax]!));
    if (policy !== 'stretch' && policy !== 'not_larger' && policy !== 'not_smaller') throw new ShapeError(`Resize keep_aspect_ratio_policy "${policy}" is not supported`);
    const common = policy === 'not_larger' ? Math.min(...ratios) : Math.max(...ratios);
    axes.forEach((ax, i) => {
      scales[ax] = policy === 'stretch' ? ratios[i]! : common;
      lens[ax] = policy === 'stretch' ? sizes![i]! : f(common * x.dims[ax]!);
      dims[ax] = Math.round(lens[ax]!);
    });
  }
  if (dims.some((d) => d < 0)) throw new ShapeError(`${node.opType} output dims ${fmt(dims)} are negative`);

  const roiValues = ctm === 'tf_crop_and_resize' ? floatsOf(inputs[1], 'Resize roi') : [];
  if (ctm === 'tf_crop_and_resize' && roiValues.length !== 2 * axes.length) throw new ShapeError(`Resize roi must hold 2 × ${axes.length} values`);
  const roi = x.dims.map((): [number, number] => [0, 1]);
  axes.forEach((ax, i) => {
    if (roiValues.length) roi[ax] = [roiValues[i]!, roiValues[i + axes.length]!];
  });
  const coordinates = { mode, ctm, nearestMode, cubicA: attrFloat(a, 'cubic_coeff_a', -0.75), excludeOutside: attrInt(a, 'exclude_outside', 0) === 1 };
  const taps = x.dims.map((inLen, ax) => axisTaps(inLen, dims[ax]!, scales[ax]!, lens[ax]!, roi[ax]!, coordinates));
  const extrapolation = attrFloat(a, 'extrapolation_value', 0);
  return { mode, dims, taps, extrapolation: x.dtype === 'float32' ? extrapolation : Math.trunc(extrapolation) };
}

function resizeReference(x: Tensor, plan: ResizePlan): Tensor {
  const { dims, taps } = plan;
  const k = TAPS[plan.mode];
  const strides = stridesOf(x.dims);
  const rank = dims.length;
  const data = allocData(x.dtype, sizeOf(dims));
  const coord = new Array<number>(rank).fill(0);
  for (let i = 0; i < data.length; i++) {
    if (coord.some((c, d) => taps[d]!.idx[c * k]! < 0)) {
      data[i] = plan.extrapolation;
    } else if (plan.mode === 'nearest') {
      data[i] = x.data[coord.reduce((s, c, d) => s + taps[d]!.idx[c]! * strides[d]!, 0)]!;
    } else {
      // Every corner of the k^rank neighbourhood, weighted by the product of its axes' weights.
      let acc = 0;
      for (let m = 0; m < k ** rank; m++) {
        let w = 1;
        let s = 0;
        for (let d = 0, q = m; d < rank; d++, q = Math.floor(q / k)) {
          const e = coord[d]! * k + (q % k);
          w *= taps[d]!.w[e]!;
          s += taps[d]!.idx[e]! * strides[d]!;
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

/**
 * An axis whose every output coordinate reads one source index (all weight on it): no
 * interpolation. Zero-weight taps may point anywhere (cubic's outer taps at an integer coordinate).
 */
function isPointwise(t: AxisTaps, k: number): boolean {
  for (let at = 0; at < t.idx.length; at += k) {
    if (t.idx[at]! < 0) continue;
    const first = t.w.subarray(at, at + k).findIndex((w) => w !== 0);
    for (let j = first + 1; j < k; j++) if (t.w[at + j] !== 0 && t.idx[at + j] !== t.idx[at + first]) return false;
    const sum = t.w.subarray(at, at + k).reduce((a, b) => a + b, 0);
    if (Math.abs(sum - 1) > 1e-6) return false;
  }
  return true;
}

function resizeOp(constInputs: readonly number[]): OpDef {
  return {
    shape: (inputs, ctx) => [{ dtype: inputs[0]!.dtype, dims: resizePlan(inputs, ctx).dims }],
    reference: (inputs, ctx) => [resizeReference(inputs[0]!, resizePlan(inputs, ctx))],
    constInputs,
    ...twinFaces(({ inputs, node, opset }) => {
      const x = inputs[0]!;
      const plan = resizePlan(inputs, { node, opset });
      const count = sizeOf(plan.dims);
      if (count === 0) return { kind: 'dispatch', programs: [] };
      const k = TAPS[plan.mode];
      const rank = plan.dims.length;
      // Interpolate over the trailing axes from the first that is not pointwise; the leading ones
      // read their first tap, so it must be the index carrying all the weight.
      const pointwise = plan.taps.map((t) => isPointwise(t, k));
      const lerpAxes = rank - (pointwise.lastIndexOf(false) < 0 ? rank : pointwise.indexOf(false));
      const offsets = plan.dims.map((_, d) => plan.dims.slice(0, d).reduce((s, n) => s + n, 0));
      const total = plan.dims.reduce((s, n) => s + n, 0);
      const idx = new Int32Array(total * k);
      const weights = new Float32Array(total * k);
      plan.taps.forEach((t, d) => {
        idx.set(t.idx, offsets[d]! * k);
        weights.set(t.w, offsets[d]! * k);
        if (d >= rank - lerpAxes || k === 1) return;
        for (let at = 0; at < t.idx.length; at += k) {
          const j = t.w.subarray(at, at + k).findIndex((w) => w !== 0);
          idx[offsets[d]! * k + at] = t.idx[at + Math.max(j, 0)]!;
        }
      });
      const elem = wgslType(x.dtype);
      const fill = new Params();
      if (elem === 'f32') fill.f32s(plan.extrapolation);
      else fill.i32s(plan.extrapolation);
      // Word 4, the rank, is for the C twin (the WGSL has it in its text); 5–7 pad the header to a vec4.
      const params = new Params().u32s(count, lerpAxes, k, fill.pack()[0]!, rank, 0, 0, 0).u32s(...plan.dims).i32s(...stridesOf(x.dims)).u32s(...offsets);
      const code = template.replaceAll('{{ELEM}}', elem).replace('{{RANK}}', String(rank)).replace('{{PARAMS}}', paramsDecl(4, params.length));
      return {
        kind: 'dispatch',
        programs: [{
          code,
          workgroups: dispatch1d(count, 256),
          bindings: [{ input: 0 }, { constant: 0 }, { constant: 1 }, { output: 0 }],
          uniforms: params.pack(),
          cpuFn: 'resize',
          // resize.c caches source rows interpolated along the last axis, K^(L-1) of them; below
          // L = 2 there is nothing to cache, but the argument is still passed.
          cpuScratch: lerpAxes >= 2 ? k ** (lerpAxes - 1) * plan.dims[rank - 1]! * 4 : 4,
        }],
        constants: [tensor('int32', [idx.length], idx), tensor('float32', [weights.length], weights)],
      };
    }),
  };
}

export const resizeOps: Record<string, OpDef> = {
  Resize: resizeOp([1, 2, 3]),
  Upsample: resizeOp([1]),
};
