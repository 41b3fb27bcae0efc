import type { Tensor } from '../../core/tensor.js';
import type { QConvGeometry, QMatMulGeometry } from './geometry.js';
import { quantizeRowSymmetric, segmentScale, unpackInt8Rows } from './pack.js';

/**
 * The QMatMul / QConv oracles: quantize exactly as docs/compressed-formats.md says, accumulate in
 * plain integers (exact: |acc| < 2^31 ≪ 2^53), then the float epilogue. Activations are left to
 * the caller (activateAll), as for the float ops.
 */

/** `y = f32(acc) · f32(s · wscale) + bias`, each step rounded to f32 as the kernels do. */
function dequantize(acc: number, s: number, wscale: number, bias: number): number {
  return Math.fround(Math.fround(Math.fround(acc) * Math.fround(s * wscale)) + bias);
}

export function qmatmulReference(a: Tensor, w: Tensor, wscale: Tensor, bias: Tensor | undefined, g: QMatMulGeometry): Float32Array {
  const { m, n, k } = g;
  const wq = unpackInt8Rows(w.data, n, k);
  const out = new Float32Array(m * n);
  for (let r = 0; r < m; r++) {
    const { scale, inv } = segmentScale(g.actScale, a.data, r * k, k);
    const q = quantizeRowSymmetric(a.data, inv, r * k, k);
    for (let c = 0; c < n; c++) {
      let acc = 0;
      for (let p = 0; p < k; p++) acc += q[p]! * wq[c * k + p]!;
      out[r * n + c] = dequantize(acc, scale, wscale.data[c]!, bias ? bias.data[c]! : 0);
    }
  }
  return out;
}

export function qconvReference(x: Tensor, w: Tensor, wscale: Tensor, bias: Tensor | undefined, g: QConvGeometry): Float32Array {
  const [h, wd] = g.inSpatial as [number, number];
  const [ho, wo] = g.outSpatial as [number, number];
  const [kh, kw] = g.kernel as [number, number];
  const [sh, sw] = g.strides as [number, number];
  const [dh, dw] = g.dilations as [number, number];
  const [ph, pw] = g.padsBegin as [number, number];
  const cinG = g.cIn / g.group;
  const coutG = g.cOut / g.group;
  const image = g.cIn * h * wd;
  const wq = unpackInt8Rows(w.data, g.cOut, g.k);
  const out = new Float32Array(g.batch * g.cOut * ho * wo);
  for (let b = 0; b < g.batch; b++) {
    // One scale per image: the dynamic amax runs over the whole input of this batch item.
    const { scale, inv } = segmentScale(g.actScale, x.data, b * image, image);
    const q = quantizeRowSymmetric(x.data, inv, b * image, image);
    for (let co = 0; co < g.cOut; co++) {
      const c0 = Math.floor(co / coutG) * cinG;
      for (let oy = 0; oy < ho; oy++) {
        for (let ox = 0; ox < wo; ox++) {
          let acc = 0;
          for (let ci = 0; ci < cinG; ci++) {
            for (let ky = 0; ky < kh; ky++) {
              const iy = oy * sh - ph + ky * dh;
              if (iy < 0 || iy >= h) continue;
              for (let kx = 0; kx < kw; kx++) {
                const ix = ox * sw - pw + kx * dw;
                if (ix < 0 || ix >= wd) continue;
                acc += q[((c0 + ci) * h + iy) * wd + ix]! * wq[co * g.k + (ci * kh + ky) * kw + kx]!;
              }
            }
          }
          out[((b * g.cOut + co) * ho + oy) * wo + ox] = dequantize(acc, scale, wscale.data[co]!, bias ? bias.data[co]! : 0);
        }
      }
    }
  }
  return out;
}
