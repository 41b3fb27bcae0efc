import { ModelFormatError, ShapeError } from '../../core/errors.js';
import { attrInt, type Node, type ValueInfo } from '../../core/ir/graph.js';
import { sizeOf } from '../../core/tensor.js';
import { actScaleAttr } from '../quant/geometry.js';
import { GROUP_WORDS, groupsOf, halfScaleWords, zeroPointWords } from './pack.js';

/**
 * Q4MatMul's inputs checked against each other: 0 A float32 [..., K], 1 W int32 [N, G·4],
 * 2 scales float32 [N, G] or int32 [N, ceil(G/2)] (fp16 pairs), 3 zero points int32 [N, ceil(G/8)]
 * (optional), 4 bias float32 [N] (optional). G = ceil(K/32). Q4Conv checks its weights here too,
 * with its patch matrix as A, so messages name the node's op.
 */

export interface Q4Geometry {
  /** Rows of A, its batch dims flattened. */
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly groups: number;
  readonly out: readonly number[];
  readonly halfScales: boolean;
  readonly zeroPoints: boolean;
  readonly bias: boolean;
  /** Activations quantized to int8 (docs/compressed-formats.md, "Rounding, exactly"), else fp32. */
  readonly int8: boolean;
  /** The static activation scale; 0 for the dynamic per-row one (or float activations). */
  readonly actScale: number;
}

const dimsOf = (v: ValueInfo): string => `${v.dtype} [${v.dims.join(', ')}]`;

function expectDims(op: string, name: string, v: ValueInfo, dtype: string, dims: readonly number[]): void {
  if (v.dtype !== dtype || v.dims.length !== dims.length || v.dims.some((d, i) => d !== dims[i])) {
    throw new ShapeError(`${op} ${name} must be ${dtype} [${dims.join(', ')}], got ${dimsOf(v)}`);
  }
}

/** The activation mode: int8 with a static scale (`act_scale` > 0), int8 with per-row dynamic scales (`act_int8` = 1), or fp32. */
function activationMode(node: Node): { int8: boolean; actScale: number } {
  const actScale = actScaleAttr(node.attrs, node.opType);
  const flag = attrInt(node.attrs, 'act_int8', 0);
  if (flag !== 0 && flag !== 1) throw new ModelFormatError(`${node.opType} act_int8 must be 0 or 1, got ${flag}`);
  return { int8: actScale > 0 || flag === 1, actScale };
}

export function q4Geometry(inputs: readonly (ValueInfo | undefined)[], node: Node): Q4Geometry {
  const [a, w, scales, zp, bias] = inputs;
  const op = node.opType;
  if (!a || !w || !scales) throw new ShapeError(`${op} needs A, W and scales`);
  if (a.dtype !== 'float32' || a.dims.length === 0) throw new ShapeError(`${op} A must be float32 of rank ≥ 1, got ${dimsOf(a)}`);
  const k = a.dims[a.dims.length - 1]!;
  const attrK = attrInt(node.attrs, 'k', k);
  if (attrK !== k) throw new ShapeError(`${op} attribute k = ${attrK} but A has K = ${k}`);
  if (w.dims.length !== 2) throw new ShapeError(`${op} W must be int32 [N, ${groupsOf(k) * GROUP_WORDS}], got ${dimsOf(w)}`);
  const n = w.dims[0]!;
  const groups = groupsOf(k);
  expectDims(op, 'W', w, 'int32', [n, groups * GROUP_WORDS]);
  const halfScales = scales.dtype === 'int32';
  if (halfScales) expectDims(op, 'fp16 scales', scales, 'int32', [n, halfScaleWords(groups)]);
  else expectDims(op, 'scales', scales, 'float32', [n, groups]);
  if (zp) expectDims(op, 'zero points', zp, 'int32', [n, zeroPointWords(groups)]);
  if (bias && (bias.dtype !== 'float32' || sizeOf(bias.dims) !== n)) throw new ShapeError(`${op} bias must be float32 with ${n} elements, got ${dimsOf(bias)}`);
  return {
    m: sizeOf(a.dims.slice(0, -1)), n, k, groups,
    out: [...a.dims.slice(0, -1), n],
    halfScales, zeroPoints: zp !== undefined, bias: bias !== undefined, ...activationMode(node),
  };
}
