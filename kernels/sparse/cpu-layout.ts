import type { Tensor } from '../../core/tensor.js';
import { indexWords, PAIR_OF_CODE, valueWords } from './sparse24.js';

/**
 * The CPU kernel's weight layout (sparse-qmatmul.c says why), packed once at load from the bundle's
 * values and indices: channels in blocks of 8, groups padded to an even count, and per (block,
 * group) 16 swizzle indices (channel j: 2p, 2p+1 for its pair number p) then 16 int8 values.
 */

export const CHANNEL_BLOCK = 8;

/** Groups per row as the CPU kernel walks them: two per step. */
export const cpuGroups = (k: number): number => 2 * Math.ceil(k / 8);

/** The codes must have been checked (checkSparseWeights): an invalid one would read as pair 0 here. */
export function packCpuLayout(values: Tensor, indices: Tensor, n: number, k: number): Tensor {
  const groups = cpuGroups(k);
  const blocks = Math.ceil(n / CHANNEL_BLOCK);
  const vw = valueWords(k);
  const iw = indexWords(k);
  const real = Math.ceil(k / 4);
  const out = new Int32Array((blocks * groups * 48) / 4);
  const bytes = new Int8Array(out.buffer);
  const halves = new Int16Array(out.buffer);
  for (let c = 0; c < blocks * CHANNEL_BLOCK; c++) {
    for (let g = 0; g < groups; g++) {
      const at = ((Math.floor(c / CHANNEL_BLOCK) * groups + g) * 48) + 2 * (c % CHANNEL_BLOCK);
      const live = c < n && g < real;
      const pair = live ? Math.max(0, PAIR_OF_CODE[(indices.data[c * iw + (g >> 3)]! >>> (4 * (g & 7))) & 15]!) : 0;
      bytes[at] = 2 * pair;
      bytes[at + 1] = 2 * pair + 1;
      if (!live) continue;
      const word = values.data[c * vw + (g >> 1)]!;
      halves[at / 2 + 8 + (c % CHANNEL_BLOCK)] = (word << (24 - 16 * (g & 1))) >> 24;
      halves[at / 2 + 8 + (c % CHANNEL_BLOCK) + 1] = (word << (16 - 16 * (g & 1))) >> 24;
    }
  }
  return { dtype: 'int32', dims: [out.length], data: out };
}
