/**
 * IEEE binary16 <-> number. The runtime has no fp16 dtype (WGSL f16 needs `shader-f16`, wasm has
 * none), so fp16 tables are widened to f32 when they are read: by the ONNX importer and by the ops
 * that accept fp16 scale tables packed in int32 words (Q4MatMul).
 */

export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

/** The nearest binary16 (ties to even), overflowing to infinity as IEEE conversion does. */
export function floatToHalf(x: number): number {
  if (Number.isNaN(x)) return 0x7e00;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a >= 65520) return sign | 0x7c00;
  // Subnormals: a fixed step of 2^-24. A mantissa that rounds up to 1024 carries into the exponent
  // field by the addition below, which is the IEEE result in both cases.
  if (a < 2 ** -14) return sign | roundTiesEven(a * 2 ** 24);
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  else if (2 ** (e + 1) <= a) e++;
  return sign | (((e + 15) << 10) + roundTiesEven((a / 2 ** e) * 1024) - 1024);
}

function roundTiesEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  return d > 0.5 || (d === 0.5 && f % 2 !== 0) ? f + 1 : f;
}
