import { UnsupportedOpError } from '../../core/errors.js';
import type { Tensor } from '../../core/tensor.js';
import type { BindingRef, GpuOpArgs } from '../op.js';
import type { Q4Geometry } from './geometry.js';
import { widenHalfScales } from './pack.js';

/**
 * Where the kernels read the f32 scale table: input 2 as it is, or, for an fp16 table (int32 words
 * of half pairs, the form that keeps the bundle at 4.5 bits per weight), a widened copy made here
 * at plan time. The runtime has no fp16 dtype and neither kernel family converts halves, so the
 * table must be known at load, as weights always are.
 */
export function scaleBinding(args: GpuOpArgs, g: Q4Geometry): { ref: BindingRef; constants: Tensor[] } {
  if (!g.halfScales) return { ref: { input: 2 }, constants: [] };
  const table = args.inputs[2]?.value;
  if (!table) {
    const { node } = args;
    throw new UnsupportedOpError([{ opType: node.opType, domain: node.domain, node: node.name, reason: 'an fp16 scale table must be known at load (it is widened to f32 when planned)' }]);
  }
  return { ref: { constant: 0 }, constants: [{ dtype: 'float32', dims: [g.n, g.groups], data: widenHalfScales(table.data, g.n, g.groups) }] };
}

/** The f32 scale table of a reference run. */
export function scaleTable(scales: Tensor, g: Q4Geometry): ArrayLike<number> {
  return g.halfScales ? widenHalfScales(scales.data, g.n, g.groups) : scales.data;
}
