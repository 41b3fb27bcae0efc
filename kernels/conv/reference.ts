import { sizeOf, stridesOf, type Tensor } from '../../core/tensor.js';
import type { ConvGeometry } from './geometry.js';

/**
 * Plain loops over any number of spatial dims: the oracle for the conv kernels. Conv gathers
 * (each output sums the inputs under its window); ConvTranspose scatters (each input adds its
 * weighted kernel into the output), the formulation the ONNX spec uses, so the two are written
 * independently of the kernels' gather formulation.
 */

function coordsOf(dims: readonly number[]): number[][] {
  const out: number[][] = [];
  const strides = stridesOf(dims);
  for (let i = 0; i < sizeOf(dims); i++) out.push(dims.map((d, k) => Math.floor(i / strides[k]!) % d));
  return out;
}

/** Flat offset of `coord` in `dims`, or -1 when any coordinate is outside. */
function offsetIn(coord: readonly number[], dims: readonly number[]): number {
  let off = 0;
  for (let k = 0; k < dims.length; k++) {
    const c = coord[k]!;
    if (c < 0 || c >= dims[k]!) return -1;
    off = off * dims[k]! + c;
  }
  return off;
}

export function convReference(x: Tensor, w: Tensor, bias: Tensor | undefined, g: ConvGeometry): Float32Array {
  const outPix = coordsOf(g.outSpatial);
  const taps = coordsOf(g.kernel);
  const inSize = sizeOf(g.inSpatial);
  const cinG = g.cIn / g.group;
  const coutG = g.cOut / g.group;
  const out = new Float32Array(g.batch * g.cOut * outPix.length);
  const pos = new Array<number>(g.kernel.length);
  for (let n = 0; n < g.batch; n++) {
    for (let co = 0; co < g.cOut; co++) {
      const grp = Math.floor(co / coutG);
      outPix.forEach((o, p) => {
        let s = bias ? bias.data[co]! : 0;
        for (let ci = 0; ci < cinG; ci++) {
          const xBase = (n * g.cIn + grp * cinG + ci) * inSize;
          taps.forEach((t, ti) => {
            for (let k = 0; k < pos.length; k++) pos[k] = o[k]! * g.strides[k]! - g.padsBegin[k]! + t[k]! * g.dilations[k]!;
            const off = offsetIn(pos, g.inSpatial);
            if (off >= 0) s += x.data[xBase + off]! * w.data[(co * cinG + ci) * taps.length + ti]!;
          });
        }
        out[(n * g.cOut + co) * outPix.length + p] = s;
      });
    }
  }
  return out;
}

export function convTransposeReference(x: Tensor, w: Tensor, bias: Tensor | undefined, g: ConvGeometry): Float32Array {
  const inPix = coordsOf(g.inSpatial);
  const taps = coordsOf(g.kernel);
  const outSize = sizeOf(g.outSpatial);
  const cinG = g.cIn / g.group;
  const coutG = g.cOut / g.group;
  const out = new Float32Array(g.batch * g.cOut * outSize);
  for (let n = 0; n < g.batch; n++) {
    for (let co = 0; co < g.cOut; co++) out.fill(bias ? bias.data[co]! : 0, (n * g.cOut + co) * outSize, (n * g.cOut + co + 1) * outSize);
  }
  const pos = new Array<number>(g.kernel.length);
  for (let n = 0; n < g.batch; n++) {
    for (let ci = 0; ci < g.cIn; ci++) {
      const grp = Math.floor(ci / cinG);
      inPix.forEach((i, ip) => {
        const v = x.data[(n * g.cIn + ci) * inPix.length + ip]!;
        taps.forEach((t, ti) => {
          for (let k = 0; k < pos.length; k++) pos[k] = i[k]! * g.strides[k]! - g.padsBegin[k]! + t[k]! * g.dilations[k]!;
          const off = offsetIn(pos, g.outSpatial);
          if (off < 0) return;
          for (let cm = 0; cm < coutG; cm++) {
            const co = grp * coutG + cm;
            out[(n * g.cOut + co) * outSize + off]! += v * w.data[(ci * coutG + cm) * taps.length + ti]!;
          }
        });
      });
    }
  }
  return out;
}
