import { ShapeError } from '../../core/errors.js';
import { attrInt, attrInts, attrString, type Attrs } from '../../core/ir/graph.js';

/**
 * Conv and ConvTranspose geometry from the ONNX attributes: kernel, strides, dilations, resolved
 * pads (auto_pad applied) and the output spatial dims. Shared by shape inference, the references
 * and the kernels, so all three agree on every attribute combination.
 */
export interface ConvGeometry {
  readonly batch: number;
  readonly cIn: number;
  readonly cOut: number;
  readonly group: number;
  readonly inSpatial: readonly number[];
  readonly outSpatial: readonly number[];
  readonly kernel: readonly number[];
  readonly strides: readonly number[];
  readonly dilations: readonly number[];
  readonly padsBegin: readonly number[];
  readonly padsEnd: readonly number[];
  /** ConvTranspose only: output_padding (zeros for Conv). */
  readonly outputPadding: readonly number[];
}

function spatialAttr(attrs: Attrs, name: string, rank: number, fallback: number): number[] {
  const v = attrInts(attrs, name);
  if (!v) return new Array<number>(rank).fill(fallback);
  if (v.length !== rank) throw new ShapeError(`${name} has ${v.length} entries, the input has ${rank} spatial dims`);
  return [...v];
}

function common(x: readonly number[], w: readonly number[], attrs: Attrs, op: string) {
  if (x.length < 3) throw new ShapeError(`${op} input must be [N, C, spatial…], got [${x.join(', ')}]`);
  if (w.length !== x.length) throw new ShapeError(`${op} weight rank ${w.length} differs from input rank ${x.length}`);
  const rank = x.length - 2;
  const kernel = spatialAttr(attrs, 'kernel_shape', rank, 0).map((k, i) => k || w[i + 2]!);
  if (kernel.some((k, i) => k !== w[i + 2])) throw new ShapeError(`${op} kernel_shape [${kernel.join(', ')}] differs from the weight's [${w.slice(2).join(', ')}]`);
  const group = attrInt(attrs, 'group', 1);
  if (group < 1) throw new ShapeError(`${op} group must be ≥ 1, got ${group}`);
  const strides = spatialAttr(attrs, 'strides', rank, 1);
  const dilations = spatialAttr(attrs, 'dilations', rank, 1);
  const pads = attrInts(attrs, 'pads') ?? new Array<number>(2 * rank).fill(0);
  if (pads.length !== 2 * rank) throw new ShapeError(`${op} pads has ${pads.length} entries, expected ${2 * rank}`);
  const autoPad = attrString(attrs, 'auto_pad', 'NOTSET');
  if (!['NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'].includes(autoPad)) throw new ShapeError(`${op} auto_pad "${autoPad}" is not valid`);
  return { rank, kernel, group, strides, dilations, pads, autoPad, inSpatial: x.slice(2) };
}

/** The extent a dilated kernel covers. */
const span = (k: number, d: number): number => (k - 1) * d + 1;

/** Splits a total padding; SAME_UPPER puts the odd one at the end, SAME_LOWER at the start. */
function split(total: number, upper: boolean): [number, number] {
  const small = Math.floor(total / 2);
  return upper ? [small, total - small] : [total - small, small];
}

export function convGeometry(x: readonly number[], w: readonly number[], attrs: Attrs): ConvGeometry {
  const c = common(x, w, attrs, 'Conv');
  const cIn = x[1]!;
  if (cIn % c.group !== 0 || w[0]! % c.group !== 0) throw new ShapeError(`Conv channels (in ${cIn}, out ${w[0]}) are not divisible by group ${c.group}`);
  if (w[1]! * c.group !== cIn) throw new ShapeError(`Conv weight [${w.join(', ')}] expects ${w[1]! * c.group} input channels with group ${c.group}, input has ${cIn}`);
  const padsBegin: number[] = [];
  const padsEnd: number[] = [];
  const outSpatial = c.inSpatial.map((n, i) => {
    const k = span(c.kernel[i]!, c.dilations[i]!);
    const s = c.strides[i]!;
    if (c.autoPad === 'SAME_UPPER' || c.autoPad === 'SAME_LOWER') {
      const out = Math.ceil(n / s);
      const [b, e] = split(Math.max(0, (out - 1) * s + k - n), c.autoPad === 'SAME_UPPER');
      padsBegin.push(b);
      padsEnd.push(e);
      return out;
    }
    const [b, e] = c.autoPad === 'VALID' ? [0, 0] : [c.pads[i]!, c.pads[i + c.rank]!];
    padsBegin.push(b);
    padsEnd.push(e);
    const out = Math.floor((n + b + e - k) / s) + 1;
    if (out < 1) throw new ShapeError(`Conv output dim ${i} would be ${out} (input ${n}, kernel span ${k}, pads ${b}+${e}, stride ${s})`);
    return out;
  });
  return {
    batch: x[0]!, cIn, cOut: w[0]!, group: c.group, inSpatial: c.inSpatial, outSpatial, kernel: c.kernel,
    strides: c.strides, dilations: c.dilations, padsBegin, padsEnd, outputPadding: new Array<number>(c.rank).fill(0),
  };
}

export function convTransposeGeometry(x: readonly number[], w: readonly number[], attrs: Attrs): ConvGeometry {
  const c = common(x, w, attrs, 'ConvTranspose');
  const cIn = x[1]!;
  if (w[0] !== cIn) throw new ShapeError(`ConvTranspose weight [${w.join(', ')}] expects ${w[0]} input channels, input has ${cIn}`);
  if (cIn % c.group !== 0) throw new ShapeError(`ConvTranspose input channels ${cIn} are not divisible by group ${c.group}`);
  const outputPadding = spatialAttr(attrs, 'output_padding', c.rank, 0);
  const outputShape = attrInts(attrs, 'output_shape');
  const padsBegin: number[] = [];
  const padsEnd: number[] = [];
  const outSpatial = c.inSpatial.map((n, i) => {
    const s = c.strides[i]!;
    const full = s * (n - 1) + outputPadding[i]! + span(c.kernel[i]!, c.dilations[i]!);
    const same = c.autoPad === 'SAME_UPPER' || c.autoPad === 'SAME_LOWER';
    let out: number;
    let b: number;
    let e: number;
    if (outputShape || same) {
      // Spec: pads derive from the requested size; SAME_UPPER puts the smaller half first.
      out = outputShape ? outputShape[outputShape.length - c.rank + i]! : n * s;
      [b, e] = split(full - out, c.autoPad === 'SAME_UPPER');
      if (full - out < 0) [b, e] = [0, 0];
    } else {
      [b, e] = c.autoPad === 'VALID' ? [0, 0] : [c.pads[i]!, c.pads[i + c.rank]!];
      out = full - b - e;
    }
    if (out < 1) throw new ShapeError(`ConvTranspose output dim ${i} would be ${out}`);
    padsBegin.push(b);
    padsEnd.push(e);
    return out;
  });
  return {
    batch: x[0]!, cIn, cOut: w[1]! * c.group, group: c.group, inSpatial: c.inSpatial, outSpatial, kernel: c.kernel,
    strides: c.strides, dilations: c.dilations, padsBegin, padsEnd, outputPadding,
  };
}

export function checkBias(bias: readonly number[] | undefined, cOut: number, op: string): void {
  if (bias && (bias.length !== 1 || bias[0] !== cOut)) throw new ShapeError(`${op} bias must be [${cOut}], got [${bias.join(', ')}]`);
}

/**
 * Conv's input slot for a residual the planner fused into it (core/runtime/fuse-residual.ts):
 * a tensor of the output's shape, added after the bias and before the fused activation.
 */
export const RESIDUAL_INPUT = 3;

export function checkResidual(residual: readonly number[] | undefined, out: readonly number[]): void {
  if (residual && residual.join() !== out.join()) throw new ShapeError(`Conv residual must be [${out.join(', ')}], got [${residual.join(', ')}]`);
}
