import { ModelFormatError, ShapeError, UnsupportedOpError } from '../../core/errors.js';
import { attrInt, attrInts, type Node, type ValueInfo } from '../../core/ir/graph.js';
import { sizeOf } from '../../core/tensor.js';
import { convGeometry, type ConvGeometry } from '../conv/geometry.js';
import { q4Geometry, type Q4Geometry } from './geometry.js';

/**
 * Q4Conv's geometry: the ONNX Conv attributes over X [N, C, H, W], and Q4MatMul's over the patch
 * matrix every backend multiplies, one row per output pixel (image-major) with its Kc = C·kh·kw
 * taps in ONNX weight order (c, kh, kw). W holds no filter dims (it is packed), so kernel_shape is
 * required. Only group = 1: the grouped case needs per-group weight offsets the GPU GEMM kernels
 * do not take (quantize.ts keeps grouped convs on int8 QConv).
 */
export interface Q4ConvGeometry {
  readonly conv: ConvGeometry;
  /** Q4MatMul's geometry for the patch matrix [batch·pixels, Kc]. */
  readonly q4: Q4Geometry;
  /** Output pixels per image (ho·wo): patch rows per image. */
  readonly pixels: number;
}

export function q4ConvGeometry(inputs: readonly (ValueInfo | undefined)[], node: Node): Q4ConvGeometry {
  const [x, w, ...rest] = inputs;
  if (!x || x.dtype !== 'float32' || x.dims.length !== 4) throw new ShapeError(`Q4Conv X must be float32 NCHW (4-D), got ${x ? `${x.dtype} [${x.dims.join(', ')}]` : 'none'}`);
  const kernel = attrInts(node.attrs, 'kernel_shape');
  if (!kernel || kernel.length !== 2) throw new ModelFormatError(`Q4Conv needs kernel_shape with 2 entries, got ${kernel ? `[${kernel.join(', ')}]` : 'none'}`);
  const group = attrInt(node.attrs, 'group', 1);
  if (group !== 1) {
    throw new UnsupportedOpError([{ opType: node.opType, domain: node.domain, node: node.name, reason: `group = ${group}: Q4Conv runs group = 1 only (grouped convs stay on QConv)` }]);
  }
  if (!w || w.dims.length !== 2) throw new ShapeError(`Q4Conv W must be int32 [Cout, ceil(Kc/32)·4], got ${w ? `${w.dtype} [${w.dims.join(', ')}]` : 'none'}`);
  const cin = x.dims[1]!;
  const k = cin * kernel[0]! * kernel[1]!;
  const attrK = attrInt(node.attrs, 'k', k);
  if (attrK !== k) throw new ShapeError(`Q4Conv k = ${attrK} differs from Cin · kh · kw = ${cin} · ${kernel[0]} · ${kernel[1]}`);
  const conv = convGeometry(x.dims, [w.dims[0]!, cin, ...kernel], node.attrs);
  const pixels = sizeOf(conv.outSpatial);
  const q4 = q4Geometry([{ dtype: 'float32', dims: [conv.batch * pixels, k] }, w, ...rest], node);
  return { conv, q4, pixels };
}

/** Output dims [N, Cout, ho, wo]. */
export const q4ConvOut = (g: Q4ConvGeometry): number[] => [g.conv.batch, g.conv.cOut, ...g.conv.outSpatial];
