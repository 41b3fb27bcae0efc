import { ShapeError } from '../../core/errors.js';
import { attrInt, attrInts, attrString, type Attrs } from '../../core/ir/graph.js';

/**
 * Sliding-window geometry shared by pooling and convolution: the ONNX attributes kernel_shape,
 * strides, dilations, pads, auto_pad (and ceil_mode for pools) resolved into output sizes and
 * explicit pads per spatial axis.
 */

export interface WindowAttrs {
  readonly kernel: readonly number[];
  readonly strides: readonly number[];
  readonly dilations: readonly number[];
  /** ONNX order: all begins, then all ends. Ignored unless autoPad is NOTSET. */
  readonly pads: readonly number[];
  readonly autoPad: 'NOTSET' | 'VALID' | 'SAME_UPPER' | 'SAME_LOWER';
  readonly ceilMode: boolean;
}

export interface WindowGeometry {
  readonly out: number[];
  readonly padsBegin: number[];
  readonly padsEnd: number[];
}

/**
 * Reads the window attributes for `spatialRank` axes. `kernel` overrides kernel_shape (Conv infers
 * it from the weights); missing strides/dilations default to 1, pads to 0.
 */
export function windowAttrs(attrs: Attrs, spatialRank: number, kernel?: readonly number[]): WindowAttrs {
  const k = kernel ?? attrInts(attrs, 'kernel_shape');
  if (!k || k.length !== spatialRank) throw new ShapeError(`kernel_shape must have ${spatialRank} entries, got ${k ? `[${k.join(', ')}]` : 'none'}`);
  const list = (name: string, length: number, fallback: number): number[] => {
    const v = attrInts(attrs, name);
    if (v && v.length !== length) throw new ShapeError(`${name} must have ${length} entries, got [${v.join(', ')}]`);
    return v ? [...v] : new Array<number>(length).fill(fallback);
  };
  const autoPad = attrString(attrs, 'auto_pad', 'NOTSET');
  if (!['NOTSET', 'VALID', 'SAME_UPPER', 'SAME_LOWER'].includes(autoPad)) throw new ShapeError(`auto_pad "${autoPad}" is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER`);
  return {
    kernel: k,
    strides: list('strides', spatialRank, 1),
    dilations: list('dilations', spatialRank, 1),
    pads: list('pads', 2 * spatialRank, 0),
    autoPad: autoPad as WindowAttrs['autoPad'],
    ceilMode: attrInt(attrs, 'ceil_mode', 0) !== 0,
  };
}

/**
 * Output size and pads per spatial axis.
 * - NOTSET: explicit pads; out = ⌊(in + pads − span) / stride⌋ + 1, or ⌈…⌉ + 1 with ceil_mode,
 *   where a last window that would start past the input and its begin padding is dropped
 *   (onnxruntime and PyTorch agree on this).
 * - VALID: no padding. SAME_*: out = ⌈in / stride⌉, with the padding this needs split evenly and
 *   the odd element at the end (UPPER) or the beginning (LOWER).
 */
export function windowGeometry(input: readonly number[], a: WindowAttrs): WindowGeometry {
  const out: number[] = [];
  const padsBegin: number[] = [];
  const padsEnd: number[] = [];
  input.forEach((size, i) => {
    const k = a.kernel[i]!;
    const s = a.strides[i]!;
    const d = a.dilations[i]!;
    if (k < 1 || s < 1 || d < 1) throw new ShapeError(`kernel, stride and dilation must be positive, got ${k}, ${s}, ${d} on spatial axis ${i}`);
    const span = (k - 1) * d + 1;
    let pb = 0;
    let pe = 0;
    let o: number;
    if (a.autoPad === 'SAME_UPPER' || a.autoPad === 'SAME_LOWER') {
      o = Math.ceil(size / s);
      const total = Math.max(0, (o - 1) * s + span - size);
      pb = a.autoPad === 'SAME_UPPER' ? Math.floor(total / 2) : Math.ceil(total / 2);
      pe = total - pb;
    } else {
      if (a.autoPad === 'NOTSET') {
        pb = a.pads[i]!;
        pe = a.pads[i + input.length]!;
      }
      const room = size + pb + pe - span;
      o = (a.ceilMode ? Math.ceil(room / s) : Math.floor(room / s)) + 1;
      if (a.ceilMode && (o - 1) * s >= size + pb) o--;
    }
    if (o < 1) throw new ShapeError(`window of span ${span} (kernel ${k}, dilation ${d}) does not fit spatial axis ${i} of size ${size} with pads ${pb}+${pe}`);
    out.push(o);
    padsBegin.push(pb);
    padsEnd.push(pe);
  });
  return { out, padsBegin, padsEnd };
}
