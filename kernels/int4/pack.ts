import { ShapeError } from '../../core/errors.js';
import { floatToHalf, halfToFloat } from '../../core/half.js';
import type { Tensor } from '../../core/tensor.js';

/**
 * The int4 block format of docs/compressed-formats.md (`Q4MatMul`): packing at compression time
 * and the unpacking the reference and the tests read. Per row n of W [N, K] and per group g of 32
 * along K: 4 words of 8 nibbles (k ascending from the low nibble), `w = u - z` with z = 8 or the
 * group's zero point, `W[n,k] ≈ scale[n,g] · w`.
 */

export const GROUP = 32;
/** Nibble words per group (32 nibbles, 8 per word). */
export const GROUP_WORDS = 4;

export const groupsOf = (k: number): number => Math.ceil(k / GROUP);
/** Words per row of the packed zero points: 8 nibbles per word. */
export const zeroPointWords = (groups: number): number => Math.ceil(groups / 8);
/** Words per row of an fp16 scale table: 2 halves per word, the lower group in the low half. */
export const halfScaleWords = (groups: number): number => Math.ceil(groups / 2);

export type ScaleDtype = 'float32' | 'float16';

export interface Int4Options {
  /** Asymmetric: per-group min/max with a zero point; else symmetric around u = 8. */
  readonly zeroPoint: boolean;
  /** fp16 halves the scale table (4.5 instead of 5 bits per weight); default float32. */
  readonly scaleDtype?: ScaleDtype;
}

/** Q4MatMul's inputs 1-3 for one weight matrix. */
export interface Int4Blocks {
  /** int32 [N, G·4]. */
  readonly packed: Tensor;
  /** float32 [N, G], or int32 [N, ceil(G/2)] of fp16 pairs. */
  readonly scales: Tensor;
  /** int32 [N, ceil(G/8)] of nibbles, when asymmetric. */
  readonly zeroPoints?: Tensor;
}

/** The value a scale takes once stored, so quantization rounds against what the kernels will read. */
function storedScale(s: number, dtype: ScaleDtype): number {
  return dtype === 'float16' ? halfToFloat(floatToHalf(s)) : Math.fround(s);
}

interface GroupCode {
  readonly scale: number;
  readonly zero: number;
  readonly u: readonly number[];
}

function encode(v: ArrayLike<number>, scale: number, zero: number): { u: number[]; sse: number } {
  const u: number[] = [];
  let sse = 0;
  for (let i = 0; i < v.length; i++) {
    const q = scale === 0 ? zero : Math.min(15, Math.max(0, Math.round(v[i]! / scale) + zero));
    u.push(q);
    sse += (v[i]! - (q - zero) * scale) ** 2;
  }
  return { u, sse };
}

/**
 * Symmetric: w = u - 8 spans [-8, 7]. Neither textbook scale is best: max|v|/7 never uses -8 (15
 * levels), -extreme/8 uses all 16 but pushes an opposite extreme of equal size past +7. So this
 * tries scales around both (the extreme mapped to ±6.5…8.5 steps) and keeps the one with the least
 * squared error of the stored group: never worse than either textbook choice, and at 13 candidates
 * per 32 weights still instant at compression time.
 */
function symmetricGroup(v: ArrayLike<number>, dtype: ScaleDtype): GroupCode {
  let extreme = 0;
  for (let i = 0; i < v.length; i++) if (Math.abs(v[i]!) > Math.abs(extreme)) extreme = v[i]!;
  if (extreme === 0) return { scale: 0, zero: 8, u: Array.from(v, () => 8) };
  const candidates: number[] = [];
  for (let t = 8; t >= 6.5; t -= 0.25) candidates.push(-extreme / t);
  for (let t = 8.5; t > 8; t -= 0.25) candidates.push(-extreme / t);
  for (let t = 7.5; t >= 6.5; t -= 0.25) candidates.push(extreme / t);
  let best: GroupCode | undefined;
  let bestSse = Infinity;
  for (const c of candidates) {
    const scale = storedScale(c, dtype);
    const { u, sse } = encode(v, scale, 8);
    if (sse < bestSse) {
      best = { scale, zero: 8, u };
      bestSse = sse;
    }
  }
  return best!;
}

/** Asymmetric: the group's [min, max], widened to hold 0 so the zero point is a code in [0, 15]. */
function asymmetricGroup(v: ArrayLike<number>, dtype: ScaleDtype): GroupCode {
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < v.length; i++) {
    lo = Math.min(lo, v[i]!);
    hi = Math.max(hi, v[i]!);
  }
  const scale = storedScale((hi - lo) / 15, dtype);
  const zero = scale === 0 ? 8 : Math.min(15, Math.max(0, Math.round(-lo / scale)));
  return { scale, zero, u: encode(v, scale, zero).u };
}

/** Quantizes a float32 [N, K] matrix (rows = output channels) into Q4MatMul's weight inputs. */
export function quantizeInt4Blocks(w: Tensor, options: Int4Options): Int4Blocks {
  if (w.dtype !== 'float32' || w.dims.length !== 2) {
    throw new ShapeError(`quantizeInt4Blocks needs a float32 [N, K] matrix, got ${w.dtype} [${w.dims.join(', ')}]`);
  }
  const [n, k] = w.dims as [number, number];
  const groups = groupsOf(k);
  const dtype = options.scaleDtype ?? 'float32';
  const packed = new Int32Array(n * groups * GROUP_WORDS);
  const scales = new Float32Array(n * groups);
  const zeros = options.zeroPoint ? new Int32Array(n * zeroPointWords(groups)) : undefined;
  for (let r = 0; r < n; r++) {
    for (let g = 0; g < groups; g++) {
      const start = g * GROUP;
      const values = w.data.subarray(r * k + start, r * k + Math.min(k, start + GROUP));
      const code = options.zeroPoint ? asymmetricGroup(values, dtype) : symmetricGroup(values, dtype);
      scales[r * groups + g] = code.scale;
      if (zeros) zeros[r * zeroPointWords(groups) + (g >> 3)]! |= code.zero << (4 * (g & 7));
      // Padding past K holds the zero point (w = 0), though no kernel reads it against activations.
      for (let i = 0; i < GROUP; i++) {
        const word = (r * groups + g) * GROUP_WORDS + (i >> 3);
        packed[word]! |= (code.u[i] ?? code.zero) << (4 * (i & 7));
      }
    }
  }
  return {
    packed: { dtype: 'int32', dims: [n, groups * GROUP_WORDS], data: packed },
    scales: dtype === 'float16'
      ? { dtype: 'int32', dims: [n, halfScaleWords(groups)], data: packHalfScales(scales, n, groups) }
      : { dtype: 'float32', dims: [n, groups], data: scales },
    zeroPoints: zeros ? { dtype: 'int32', dims: [n, zeroPointWords(groups)], data: zeros } : undefined,
  };
}

/** Float scales [N, G] as fp16 pairs [N, ceil(G/2)]. */
export function packHalfScales(scales: ArrayLike<number>, n: number, groups: number): Int32Array {
  const words = halfScaleWords(groups);
  const out = new Int32Array(n * words);
  for (let r = 0; r < n; r++) {
    for (let g = 0; g < groups; g++) out[r * words + (g >> 1)]! |= floatToHalf(scales[r * groups + g]!) << (16 * (g & 1));
  }
  return out;
}

/** The inverse of packHalfScales: the f32 table the kernels read. */
export function widenHalfScales(words: ArrayLike<number>, n: number, groups: number): Float32Array {
  const perRow = halfScaleWords(groups);
  const out = new Float32Array(n * groups);
  for (let r = 0; r < n; r++) {
    for (let g = 0; g < groups; g++) out[r * groups + g] = halfToFloat((words[r * perRow + (g >> 1)]! >>> (16 * (g & 1))) & 0xffff);
  }
  return out;
}

/** Nibble `i` (0-based, low first) of a run of 32-bit words. */
export const nibble = (words: ArrayLike<number>, base: number, i: number): number => (words[base + (i >> 3)]! >>> (4 * (i & 7))) & 15;

/**
 * Signed int4 weights w = u - z as an [N, K] Int8Array, from Q4MatMul's packed W and optional
 * packed zero points (the reference reads the weights through this).
 */
export function unpackInt4Blocks(packed: ArrayLike<number>, zeroPoints: ArrayLike<number> | undefined, n: number, k: number): Int8Array {
  const groups = groupsOf(k);
  const out = new Int8Array(n * k);
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < k; i++) {
      const g = i >> 5;
      const z = zeroPoints ? nibble(zeroPoints, r * zeroPointWords(groups), g) : 8;
      out[r * k + i] = nibble(packed, (r * groups + g) * GROUP_WORDS, i & 31) - z;
    }
  }
  return out;
}
