import { ModelFormatError, ShapeError } from '../../core/errors.js';
import { dynamicScale, quantizeValue } from '../quant/pack.js';

/**
 * 2:4 structured sparsity with int8 values (docs/compressed-formats.md, SparseQMatMul): pruning,
 * packing into the bundle layout every backend reads, and the inverse the reference uses.
 * Per row n and group g of 4 along K, two positions i0 < i1 are kept; a group's 4-bit code is
 * `i0 | i1 << 2`, so only 6 codes are valid.
 */

/** Words per row of `values` (4 int8, 2 groups) and of `indices` (8 codes of 4 bits). */
export const valueWords = (k: number): number => Math.ceil(k / 8);
export const indexWords = (k: number): number => Math.ceil(k / 32);

/** The 6 (i0, i1) pairs in code order; the WebGPU kept table numbers its pairs in this order. */
const PAIRS: readonly (readonly [number, number])[] = [[0, 1], [0, 2], [0, 3], [1, 2], [1, 3], [2, 3]];

/** Code of the groups that pad a row's last words (no position of them is < K). */
const PAD_CODE = 0b0100;

export function pairOfCode(code: number): readonly [number, number] | undefined {
  const i0 = code & 3;
  const i1 = code >> 2;
  return i0 < i1 ? [i0, i1] : undefined;
}

/** Pair number (index into PAIRS) of each 4-bit code; -1 for the codes no packer writes. */
export const PAIR_OF_CODE: readonly number[] = Array.from({ length: 16 }, (_, code) => {
  const pair = pairOfCode(code);
  return pair ? PAIRS.findIndex(([i0, i1]) => i0 === pair[0] && i1 === pair[1]) : -1;
});

function checkLength(what: string, length: number, n: number, k: number): void {
  if (!(Number.isInteger(n) && Number.isInteger(k) && n >= 0 && k >= 1)) throw new ShapeError(`${what}: bad dims [${n}, ${k}]`);
  if (length !== n * k) throw new ShapeError(`${what}: ${length} values for [${n}, ${k}]`);
}

/**
 * The positions kept in each group: the 2 largest |w| (ties to the lower index). A last group cut
 * short by K keeps its real positions only, at most 2. Returns a 0/1 mask [N, K].
 */
export function prune24(w: ArrayLike<number>, n: number, k: number): Uint8Array {
  checkLength('prune24', w.length, n, k);
  const mask = new Uint8Array(n * k);
  for (let r = 0; r < n; r++) {
    for (let g0 = 0; g0 < k; g0 += 4) {
      const base = r * k + g0;
      const real = Math.min(4, k - g0);
      // Larger magnitude first, ties to the lower index; NaN ranks last, so it is never preferred.
      const mag = (i: number): number => {
        const m = Math.abs(w[base + i]!);
        return Number.isNaN(m) ? -1 : m;
      };
      const order = Array.from({ length: real }, (_, i) => i).sort((a, b) => mag(b) - mag(a) || a - b);
      for (const i of order.slice(0, 2)) mask[base + i] = 1;
    }
  }
  return mask;
}

export interface Sparse24Int8 {
  /** int32 [N, ceil(K/8)]: kept int8 values, 2 per group, groups ascending from the low byte. */
  readonly values: Int32Array;
  /** int32 [N, ceil(K/32)]: a 4-bit code `i0 | i1 << 2` per group, 8 per word from the low bits. */
  readonly indices: Int32Array;
  /** float32 [N]: W_float[n, k] ≈ scales[n] · w[n, k] over the kept values. */
  readonly scales: Float32Array;
}

/** The two positions of one group to store: the kept ones, topped up with the lowest others. */
function groupPair(mask: Uint8Array, base: number, real: number, where: string): [number, number] {
  const kept: number[] = [];
  for (let i = 0; i < real; i++) if (mask[base + i]) kept.push(i);
  if (kept.length > 2) throw new ModelFormatError(`${where}: the mask keeps ${kept.length} of a group of 4, at most 2 allowed`);
  for (let i = 0; kept.length < 2; i++) if (!kept.includes(i)) kept.push(i);
  kept.sort((a, b) => a - b);
  return [kept[0]!, kept[1]!];
}

/**
 * Prunes a float [N, K] matrix to 2:4 (prune24, or the given mask, e.g. one fixed for a fine-tune)
 * and quantizes the kept values per output channel, symmetric int8, by the activation rounding rule.
 */
export function packSparse24Int8(w: ArrayLike<number>, n: number, k: number, mask: Uint8Array = prune24(w, n, k)): Sparse24Int8 {
  checkLength('packSparse24Int8', w.length, n, k);
  checkLength('packSparse24Int8 mask', mask.length, n, k);
  const vw = valueWords(k);
  const iw = indexWords(k);
  const values = new Int32Array(n * vw);
  const indices = new Int32Array(n * iw);
  const scales = new Float32Array(n);
  for (let r = 0; r < n; r++) {
    const pairs: [number, number][] = [];
    let amax = 0;
    for (let g = 0; g * 4 < k; g++) {
      const base = r * k + g * 4;
      const pair = groupPair(mask, base, Math.min(4, k - g * 4), `packSparse24Int8 row ${r}, group ${g}`);
      pairs.push(pair);
      for (const i of pair) if (g * 4 + i < k && mask[base + i]) amax = Math.max(amax, Math.abs(w[base + i]!));
    }
    const { scale, inv } = dynamicScale(amax);
    scales[r] = scale;
    for (let g = 0; g < iw * 8; g++) {
      const pair = pairs[g];
      const code = pair ? pair[0] | (pair[1] << 2) : PAD_CODE;
      indices[r * iw + (g >> 3)]! |= code << (4 * (g & 7));
      if (!pair) continue;
      pair.forEach((i, j) => {
        const at = r * k + g * 4 + i;
        const q = g * 4 + i < k && mask[at] ? quantizeValue(w[at]!, inv) : 0;
        values[r * vw + (g >> 1)]! |= (q & 0xff) << (8 * (2 * (g & 1) + j));
      });
    }
  }
  return { values, indices, scales };
}

/**
 * The inverse of packing: dense int8 [N, K] with zeros where pruned. Rejects what no packer
 * writes, so a kernel may rely on it: a code with i0 ≥ i1, or a nonzero value kept past K.
 */
export function unpackSparse24(values: ArrayLike<number>, indices: ArrayLike<number>, n: number, k: number): Int8Array {
  const vw = valueWords(k);
  const iw = indexWords(k);
  if (values.length !== n * vw || indices.length !== n * iw) {
    throw new ShapeError(`unpackSparse24: [${n}, ${k}] needs ${n * vw} value words and ${n * iw} index words, got ${values.length} and ${indices.length}`);
  }
  const out = new Int8Array(n * k);
  for (let r = 0; r < n; r++) {
    for (let g = 0; g * 4 < k; g++) {
      const code = (indices[r * iw + (g >> 3)]! >>> (4 * (g & 7))) & 15;
      const pair = pairOfCode(code);
      if (!pair) throw new ModelFormatError(`SparseQMatMul row ${r}, group ${g}: index code ${code} is not i0 | i1 << 2 with i0 < i1`);
      pair.forEach((i, j) => {
        const q = (values[r * vw + (g >> 1)]! << (24 - 8 * (2 * (g & 1) + j))) >> 24;
        if (g * 4 + i < k) out[r * k + g * 4 + i] = q;
        else if (q !== 0) throw new ModelFormatError(`SparseQMatMul row ${r}: a kept value past K = ${k} must be 0, got ${q}`);
      });
    }
  }
  return out;
}
