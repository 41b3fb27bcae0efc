import { ShapeError } from '../../core/errors.js';
import { stridesOf } from '../../core/tensor.js';

/** Numpy-style multidirectional broadcast of any number of shapes. */
export function broadcastDims(shapes: readonly (readonly number[])[]): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const o = rank - s.length + i;
      const d = s[i]!;
      if (out[o] === 1) out[o] = d;
      else if (d !== 1 && d !== out[o]) {
        throw new ShapeError(`cannot broadcast shapes ${shapes.map((x) => `[${x.join(', ')}]`).join(' and ')}`);
      }
    }
  }
  return out;
}

/** Strides of `dims` read as if broadcast to `outDims`: 0 along broadcast axes. */
export function broadcastStrides(dims: readonly number[], outDims: readonly number[]): number[] {
  const own = stridesOf(dims);
  const pad = outDims.length - dims.length;
  return outDims.map((_, o) => {
    const i = o - pad;
    return i < 0 || dims[i] === 1 ? 0 : own[i]!;
  });
}
