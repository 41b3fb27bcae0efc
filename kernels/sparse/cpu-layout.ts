import type { Tensor } from '../../core/tensor.js';
import { indexWords, pairOfCode, valueWords } from './sparse24.js';

/**
 * The CPU kernel's weight layout (sparse-qmatmul.c says how and why), packed once at load from the
 * bundle's values and indices: channels in blocks of 16, each block 16 int32 corrections for A's
 * offset (-128 × the channel's kept weights) then, per group and half of 8 channels, 16 swizzle
 * indices (the kept positions) and 16 int16 weights.
 */

export const CHANNEL_BLOCK = 16;

/** Groups per row as the CPU kernel walks them: A is converted in whole vectors of 16, 4 groups each. */
export const cpuGroups = (k: number): number => 4 * Math.ceil(k / 16);

/** Bytes of one block: the corrections, then 96 per group. */
const blockBytes = (groups: number): number => 64 + groups * 96;

/** The codes must have been checked (checkSparseWeights). */
export function packCpuLayout(values: Tensor, indices: Tensor, n: number, k: number): Tensor {
  const groups = cpuGroups(k);
  const vw = valueWords(k);
  const iw = indexWords(k);
  const real = Math.ceil(k / 4);
  const out = new Int32Array((Math.ceil(n / CHANNEL_BLOCK) * blockBytes(groups)) / 4);
  const bytes = new Uint8Array(out.buffer);
  const halves = new Int16Array(out.buffer);
  for (let c = 0; c < n; c++) {
    const block = Math.floor(c / CHANNEL_BLOCK) * blockBytes(groups);
    // Within its half of 8: lane j of the dots, and whether it takes the high byte of each int16.
    const j = c & 3;
    const high = (c >> 2) & 1;
    const half = 48 * ((c >> 3) & 1);
    let kept = 0;
    for (let g = 0; g < real; g++) {
      const at = block + 64 + 96 * g + half;
      const pair = pairOfCode((indices.data[c * iw + (g >> 3)]! >>> (4 * (g & 7))) & 15)!;
      const word = values.data[c * vw + (g >> 1)]!;
      for (let e = 0; e < 2; e++) {
        const w = (word << (24 - 16 * (g & 1) - 8 * e)) >> 24;
        bytes[at + 4 * j + 2 * e + high] = pair[e]!;
        halves[(at + 16 + 16 * high) / 2 + 2 * j + e] = w;
        kept += w;
      }
    }
    out[block / 4 + (c % CHANNEL_BLOCK)] = -128 * kept;
  }
  return { dtype: 'int32', dims: [out.length], data: out };
}
