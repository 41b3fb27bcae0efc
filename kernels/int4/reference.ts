import type { Tensor } from '../../core/tensor.js';
import type { ConvGeometry } from '../conv/geometry.js';
import { quantizeRowSymmetric, segmentScale } from '../quant/pack.js';
import type { Q4Geometry } from './geometry.js';
import { GROUP, unpackInt4Blocks } from './pack.js';
import { scaleTable } from './scales.js';

/**
 * The Q4MatMul oracles (docs/compressed-formats.md), before bias and activation. `weights` are the
 * signed int4 values [N, K] (unpackInt4Blocks), `scales` the f32 table [N, G].
 */

/** Float activations: y = Σ_g scale[n,g] · Σ_{k∈g} w·a + bias, in f64 (the kernels are compared with a tolerance). */
function q4FloatReference(a: ArrayLike<number>, weights: Int8Array, scales: ArrayLike<number>, bias: ArrayLike<number> | undefined, g: Q4Geometry): Float32Array {
  const out = new Float32Array(g.m * g.n);
  for (let m = 0; m < g.m; m++) {
    for (let n = 0; n < g.n; n++) {
      let y = 0;
      for (let grp = 0; grp < g.groups; grp++) {
        let s = 0;
        for (let k = grp * GROUP; k < Math.min(g.k, (grp + 1) * GROUP); k++) s += weights[n * g.k + k]! * a[m * g.k + k]!;
        y += scales[n * g.groups + grp]! * s;
      }
      out[m * g.n + n] = y + (bias ? bias[n]! : 0);
    }
  }
  return out;
}

/**
 * int8 activations, each float step rounded to f32 as the CPU kernel does:
 *   acc_g = Σ_{k∈g} w·q (exact; |acc_g| ≤ 32·15·127, so f32(acc_g) is exact too)
 *   t = Σ_g f32(acc_g)·scale[n,g], g ascending, each product and partial sum rounded to f32
 *   y = f32(f32(t·s) + bias)
 */
function q4Int8Reference(a: ArrayLike<number>, weights: Int8Array, scales: ArrayLike<number>, bias: ArrayLike<number> | undefined, g: Q4Geometry): Float32Array {
  const out = new Float32Array(g.m * g.n);
  for (let m = 0; m < g.m; m++) {
    const { scale, inv } = segmentScale(g.actScale, a, m * g.k, g.k);
    const q = quantizeRowSymmetric(a, inv, m * g.k, g.k);
    for (let n = 0; n < g.n; n++) {
      let t = 0;
      for (let grp = 0; grp < g.groups; grp++) {
        let acc = 0;
        for (let k = grp * GROUP; k < Math.min(g.k, (grp + 1) * GROUP); k++) acc += weights[n * g.k + k]! * q[k]!;
        t = Math.fround(t + Math.fround(acc * scales[n * g.groups + grp]!));
      }
      out[m * g.n + n] = Math.fround(Math.fround(t * scale) + (bias ? bias[n]! : 0));
    }
  }
  return out;
}

/**
 * A [M, K] times the packed weights (inputs 1-4 of Q4MatMul / Q4Conv: W, scales, zero points,
 * bias) as [M, N], float or int8 activations as `g` says; the fused activation is left to the caller.
 */
export function q4Product(a: ArrayLike<number>, [w, scales, zp, bias]: readonly (Tensor | undefined)[], g: Q4Geometry): Float32Array {
  const weights = unpackInt4Blocks(w!.data, zp?.data, g.n, g.k);
  return (g.int8 ? q4Int8Reference : q4FloatReference)(a, weights, scaleTable(scales!, g), bias?.data, g);
}

/**
 * X's patches as the rows Q4Conv multiplies: [batch·ho·wo, Kc] (group 1), taps in ONNX weight
 * order (c, kh, kw), padding taps 0.
 */
export function patchRows(x: ArrayLike<number>, c: ConvGeometry): Float32Array {
  const [h, wd] = c.inSpatial as [number, number];
  const [ho, wo] = c.outSpatial as [number, number];
  const [kh, kw] = c.kernel as [number, number];
  const k = c.cIn * kh * kw;
  const rows = new Float32Array(c.batch * ho * wo * k);
  for (let b = 0; b < c.batch; b++) {
    for (let oy = 0; oy < ho; oy++) {
      for (let ox = 0; ox < wo; ox++) {
        const row = ((b * ho + oy) * wo + ox) * k;
        for (let ci = 0; ci < c.cIn; ci++) {
          for (let ky = 0; ky < kh; ky++) {
            const iy = oy * c.strides[0]! - c.padsBegin[0]! + ky * c.dilations[0]!;
            for (let kx = 0; kx < kw; kx++) {
              const ix = ox * c.strides[1]! - c.padsBegin[1]! + kx * c.dilations[1]!;
              if (iy >= 0 && iy < h && ix >= 0 && ix < wd) rows[row + (ci * kh + ky) * kw + kx] = x[((b * c.cIn + ci) * h + iy) * wd + ix]!;
            }
          }
        }
      }
    }
  }
  return rows;
}
