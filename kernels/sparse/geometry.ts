import { ModelFormatError, ShapeError } from '../../core/errors.js';
import { attrInt, type Attrs } from '../../core/ir/graph.js';
import { sizeOf, type DType, type Tensor } from '../../core/tensor.js';
import { actScaleAttr, type QMatMulGeometry } from '../quant/geometry.js';
import { indexWords, unpackSparse24, valueWords } from './sparse24.js';

/**
 * SparseQMatMul operand checks (docs/compressed-formats.md), shared by shape inference, the
 * reference and both kernel planners. The geometry is QMatMul's: only W's form differs.
 */

interface Operand {
  readonly dtype: DType;
  readonly dims: readonly number[];
}

const int32Matrix = (t: Operand | undefined, n: number | undefined, cols: number): boolean =>
  !!t && t.dtype === 'int32' && t.dims.length === 2 && t.dims[1] === cols && (n === undefined || t.dims[0] === n);

export function sparseGeometry(
  [a, values, indices, wscale, bias]: readonly (Operand | undefined)[],
  attrs: Attrs,
): QMatMulGeometry {
  const k = attrInt(attrs, 'k', -1);
  if (!Number.isInteger(k) || k < 1) throw new ModelFormatError(`SparseQMatMul needs the attribute k (the logical K, ≥ 1), got ${attrs.k ?? 'none'}`);
  if (!a || !values || !indices || !wscale) throw new ModelFormatError('SparseQMatMul needs its inputs A, values, indices and wscale');
  if (a.dtype !== 'float32' || a.dims.length < 1 || a.dims[a.dims.length - 1] !== k) {
    throw new ShapeError(`SparseQMatMul A must be float32 [..., K] with K = k = ${k}, got ${a.dtype} [${a.dims.join(', ')}]`);
  }
  if (!int32Matrix(values, undefined, valueWords(k))) {
    throw new ShapeError(`SparseQMatMul values must be int32 [N, ceil(${k}/8) = ${valueWords(k)}], got ${values.dtype} [${values.dims.join(', ')}]`);
  }
  const n = values.dims[0]!;
  if (!int32Matrix(indices, n, indexWords(k))) {
    throw new ShapeError(`SparseQMatMul indices must be int32 [${n}, ceil(${k}/32) = ${indexWords(k)}], got ${indices.dtype} [${indices.dims.join(', ')}]`);
  }
  for (const [name, t] of [['wscale', wscale], ['bias', bias]] as const) {
    if (t && (t.dtype !== 'float32' || t.dims.length !== 1 || sizeOf(t.dims) !== n)) {
      throw new ShapeError(`SparseQMatMul ${name} must be float32 [${n}], got ${t.dtype} [${t.dims.join(', ')}]`);
    }
  }
  const m = sizeOf(a.dims.slice(0, -1));
  return { m, n, k, out: [...a.dims.slice(0, -1), n], actScale: actScaleAttr(attrs, 'SparseQMatMul') };
}

/** The codes and padding every kernel relies on (unpackSparse24 rejects the rest); run at load. */
export function checkSparseWeights(values: Tensor, indices: Tensor, g: QMatMulGeometry): Int8Array {
  return unpackSparse24(values.data, indices.data, g.n, g.k);
}
