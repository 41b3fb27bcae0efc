import { ModelFormatError, ShapeError } from '../../core/errors.js';
import { attrFloat, attrInt, attrInts, type Attrs } from '../../core/ir/graph.js';
import { sizeOf, type DType } from '../../core/tensor.js';
import { convGeometry, type ConvGeometry } from '../conv/geometry.js';
import { packedWords } from './pack.js';

/**
 * QMatMul / QConv operand checks and geometry (docs/compressed-formats.md), shared by shape
 * inference, the references and both kernel planners, so all agree on what a valid node is.
 */

interface Operand {
  readonly dtype: DType;
  readonly dims: readonly number[];
}

/** The activation scale attribute: > 0 static (calibrated), absent or 0 dynamic. */
export function actScaleAttr(attrs: Attrs, op: string): number {
  const s = attrFloat(attrs, 'act_scale', 0);
  if (!(s >= 0) || !Number.isFinite(s)) throw new ModelFormatError(`${op} act_scale must be a finite number ≥ 0, got ${s}`);
  return s;
}

function requiredK(attrs: Attrs, op: string): number {
  const k = attrInt(attrs, 'k', -1);
  if (!Number.isInteger(k) || k < 1) throw new ModelFormatError(`${op} needs the attribute k (the logical K, ≥ 1), got ${attrs.k ?? 'none'}`);
  return k;
}

/** W int32 [N, ceil(K/4)], wscale float32 [N], bias float32 [N] when present. */
function checkWeights(op: string, w: Operand | undefined, wscale: Operand | undefined, bias: Operand | undefined, k: number): number {
  if (!w || !wscale) throw new ModelFormatError(`${op} needs its inputs W and wscale`);
  if (w.dtype !== 'int32' || w.dims.length !== 2) throw new ShapeError(`${op} W must be int32 [N, ceil(K/4)], got ${w.dtype} [${w.dims.join(', ')}]`);
  const [n, words] = w.dims as [number, number];
  if (words !== packedWords(k)) throw new ShapeError(`${op} W [${w.dims.join(', ')}] must have ceil(${k}/4) = ${packedWords(k)} words per row for K = ${k}`);
  for (const [name, t] of [['wscale', wscale], ['bias', bias]] as const) {
    if (t && (t.dtype !== 'float32' || sizeOf(t.dims) !== n || t.dims.length !== 1)) {
      throw new ShapeError(`${op} ${name} must be float32 [${n}], got ${t.dtype} [${t.dims.join(', ')}]`);
    }
  }
  return n;
}

export interface QMatMulGeometry {
  /** Rows of A: its batch dims flattened. */
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly out: readonly number[];
  /** 0 for the dynamic per-row scale. */
  readonly actScale: number;
}

export function qmatmulGeometry(a: Operand, w: Operand | undefined, wscale: Operand | undefined, bias: Operand | undefined, attrs: Attrs): QMatMulGeometry {
  const k = requiredK(attrs, 'QMatMul');
  if (a.dtype !== 'float32' || a.dims.length < 1) throw new ShapeError(`QMatMul A must be float32 [..., K], got ${a.dtype} [${a.dims.join(', ')}]`);
  const ka = a.dims[a.dims.length - 1]!;
  if (ka !== k) throw new ShapeError(`QMatMul A [${a.dims.join(', ')}] has K = ${ka}, the node says k = ${k}`);
  const n = checkWeights('QMatMul', w, wscale, bias, k);
  const m = sizeOf(a.dims.slice(0, -1));
  return { m, n, k, out: [...a.dims.slice(0, -1), n], actScale: actScaleAttr(attrs, 'QMatMul') };
}

export interface QConvGeometry extends ConvGeometry {
  /** Kc = cIn/group · kh · kw, the GEMM's K. */
  readonly k: number;
  readonly actScale: number;
}

export function qconvGeometry(x: Operand, w: Operand | undefined, wscale: Operand | undefined, bias: Operand | undefined, attrs: Attrs): QConvGeometry {
  const k = requiredK(attrs, 'QConv');
  if (x.dtype !== 'float32' || x.dims.length !== 4) throw new ShapeError(`QConv X must be float32 NCHW (4-D), got ${x.dtype} [${x.dims.join(', ')}]`);
  const kernel = attrInts(attrs, 'kernel_shape');
  if (!kernel || kernel.length !== 2) throw new ModelFormatError(`QConv needs kernel_shape with 2 entries, got ${kernel ? `[${kernel.join(', ')}]` : 'none'}`);
  const cout = checkWeights('QConv', w, wscale, bias, k);
  const group = attrInt(attrs, 'group', 1);
  const cin = x.dims[1]!;
  if (group < 1 || cin % group !== 0) throw new ShapeError(`QConv input channels ${cin} are not divisible by group ${group}`);
  const cinG = cin / group;
  if (cinG * kernel[0]! * kernel[1]! !== k) {
    throw new ShapeError(`QConv k = ${k} differs from Cin/group · kh · kw = ${cinG} · ${kernel[0]} · ${kernel[1]}`);
  }
  const g = convGeometry(x.dims, [cout, cinG, ...kernel], attrs);
  return { ...g, k, actScale: actScaleAttr(attrs, 'QConv') };
}
