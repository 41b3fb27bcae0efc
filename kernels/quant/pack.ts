/**
 * The int8 W8A8 arithmetic of docs/compressed-formats.md ("Rounding, exactly"), in one place for the
 * references, the tests and the quantize tool: every backend must reproduce these integers bit for
 * bit, so nothing here may round differently from WGSL `round` or wasm `f32.nearest`.
 */

/** Quantized values live in [-QMAX, QMAX]: symmetric, so -128 is never produced. */
export const QMAX = 127;

/** Round to nearest, ties to even (WGSL `round`, wasm `f32.nearest`); Math.round rounds ties up. */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** An activation scale `s` (y ≈ s·q) and the multiplier `inv` that quantizes. */
export interface ActScale {
  readonly scale: number;
  readonly inv: number;
}

/** Static (calibrated) scale: `inv = f32(1 / act_scale)`, computed once on the host. */
export function staticScale(actScale: number): ActScale {
  const scale = Math.fround(actScale);
  return { scale, inv: Math.fround(1 / scale) };
}

/**
 * Dynamic scale from a row's largest magnitude. Division of f32 values carried out in f64 and
 * rounded once to f32 is the correctly rounded f32 quotient, as wasm and WGSL compute it.
 */
export function dynamicScale(amax: number): ActScale {
  const a = Math.fround(amax);
  if (a === 0) return { scale: 1, inv: 0 };
  return { scale: Math.fround(a / QMAX), inv: Math.fround(QMAX / a) };
}

/** A segment's scale: the static one when `actScale` > 0, else the dynamic one of its values. */
export function segmentScale(actScale: number, x: ArrayLike<number>, start: number, length: number): ActScale {
  return actScale > 0 ? staticScale(actScale) : dynamicScale(maxAbs(x, start, length));
}

export function maxAbs(x: ArrayLike<number>, start = 0, length = x.length - start): number {
  let m = 0;
  for (let i = start; i < start + length; i++) m = Math.max(m, Math.abs(x[i]!));
  return m;
}

/** `q = clamp(roundHalfEven(f32(x·inv)), -127, 127)` for one element. */
export function quantizeValue(x: number, inv: number): number {
  return Math.min(QMAX, Math.max(-QMAX, roundHalfEven(Math.fround(x * inv))));
}

/** Quantizes `length` values of x from `start` with one multiplier. */
export function quantizeRowSymmetric(x: ArrayLike<number>, inv: number, start = 0, length = x.length - start): Int8Array {
  const q = new Int8Array(length);
  for (let i = 0; i < length; i++) q[i] = quantizeValue(x[start + i]!, inv);
  return q;
}

/** Words per packed row: 4 int8 per int32, K padded with zeros. */
export const packedWords = (k: number): number => Math.ceil(k / 4);

/**
 * Packs an [N, K] int8 matrix (values already in [-127, 127]), or any [N, K] bytes, as int32
 * [N, ceil(K/4)]: k ascending from the low byte of each word, the tail of each row padded with zeros.
 */
export function packInt8Rows(w: ArrayLike<number>, n: number, k: number): Int32Array {
  if (w.length !== n * k) throw new RangeError(`packInt8Rows: ${w.length} values for [${n}, ${k}]`);
  const kw = packedWords(k);
  const out = new Int32Array(n * kw);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < k; c++) {
      const i = r * kw + (c >> 2);
      out[i] = out[i]! | ((w[r * k + c]! & 0xff) << (8 * (c & 3)));
    }
  }
  return out;
}

/** The inverse of packInt8Rows: [N, K] int8 values out of [N, ceil(K/4)] words. */
export function unpackInt8Rows(packed: ArrayLike<number>, n: number, k: number): Int8Array {
  const kw = packedWords(k);
  const out = new Int8Array(n * k);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < k; c++) out[r * k + c] = (packed[r * kw + (c >> 2)]! << (24 - 8 * (c & 3))) >> 24;
  }
  return out;
}

export interface QuantizedWeights {
  /** int32 [N, ceil(K/4)], the layout QMatMul and QConv read. */
  readonly packed: Int32Array;
  /** float32 [N]: W_float[n, k] ≈ scales[n] · w[n, k]. */
  readonly scales: Float32Array;
}

/** Per-output-channel symmetric quantization of a float [N, K] matrix, by the activation rounding rule. */
export function quantizeWeightsPerChannel(w: ArrayLike<number>, n: number, k: number): QuantizedWeights {
  if (w.length !== n * k) throw new RangeError(`quantizeWeightsPerChannel: ${w.length} values for [${n}, ${k}]`);
  const q = new Int8Array(n * k);
  const scales = new Float32Array(n);
  for (let r = 0; r < n; r++) {
    const { scale, inv } = dynamicScale(maxAbs(w, r * k, k));
    scales[r] = scale;
    q.set(quantizeRowSymmetric(w, inv, r * k, k), r * k);
  }
  return { packed: packInt8Rows(q, n, k), scales };
}
