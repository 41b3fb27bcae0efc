import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ModelFormatError, ShapeError } from '../../core/errors.js';
import { dynamicScale, quantizeValue } from '../quant/pack.js';
import { randomTensor } from '../testing/harness.js';
import { packSparse24Int8, prune24, unpackSparse24 } from './sparse24.js';

const dimsArb = fc.record({ n: fc.integer({ min: 1, max: 9 }), k: fc.integer({ min: 1, max: 75 }), seed: fc.nat() });

describe('2:4 pruning and packing', () => {
  it('prune24 keeps exactly 2 of every group of 4 (the real positions of a short last group), the largest |w|', () => {
    fc.assert(fc.property(dimsArb, ({ n, k, seed }) => {
      const w = randomTensor('float32', [n, k], seed).data;
      const mask = prune24(w, n, k);
      for (let r = 0; r < n; r++) {
        for (let g0 = 0; g0 < k; g0 += 4) {
          const at = Array.from({ length: Math.min(4, k - g0) }, (_, i) => r * k + g0 + i);
          const kept = at.filter((i) => mask[i]);
          expect(kept.length).toBe(Math.min(2, at.length));
          const smallestKept = Math.min(...kept.map((i) => Math.abs(w[i]!)));
          for (const i of at) if (!mask[i]) expect(Math.abs(w[i]!)).toBeLessThanOrEqual(smallestKept);
        }
      }
    }));
  });

  it('breaks magnitude ties toward the lower index', () => {
    expect([...prune24([1, -1, 1, 1, 0, 0, 0, 0.5], 1, 8)]).toEqual([1, 1, 0, 0, 1, 0, 0, 1]);
  });

  it('unpacking gives back the kept values quantized per channel over the kept ones, zeros elsewhere', () => {
    fc.assert(fc.property(dimsArb, ({ n, k, seed }) => {
      const w = randomTensor('float32', [n, k], seed).data;
      const mask = prune24(w, n, k);
      const { values, indices, scales } = packSparse24Int8(w, n, k);
      expect(values.length).toBe(n * Math.ceil(k / 8));
      expect(indices.length).toBe(n * Math.ceil(k / 32));
      const dense = unpackSparse24(values, indices, n, k);
      for (let r = 0; r < n; r++) {
        let amax = 0;
        for (let c = 0; c < k; c++) if (mask[r * k + c]) amax = Math.max(amax, Math.abs(w[r * k + c]!));
        const { scale, inv } = dynamicScale(amax);
        expect(scales[r]).toBe(scale);
        for (let c = 0; c < k; c++) expect(dense[r * k + c]).toBe(mask[r * k + c] ? quantizeValue(w[r * k + c]!, inv) : 0);
      }
    }));
  });

  it('lays words out as the format says: 2 groups per value word, lower index first; 8 codes per index word', () => {
    // K = 9: groups (127 at 1, -127 at 3), (64 at 0, 2 at 2), and a last group of one real position.
    const w = [0, 127, 0, -127, 64, 0, 2, 0, 5];
    const { values, indices, scales } = packSparse24Int8(w, 1, 9);
    expect(scales[0]).toBe(1);
    expect([...values]).toEqual([(127 | (-127 & 0xff) << 8 | 64 << 16 | 2 << 24) | 0, 5]);
    // Codes i0 | i1 << 2: (1, 3) = 13, (0, 2) = 8, (0, 1) = 4 (the last group, padded), then unused groups (0, 1).
    expect(indices[0]! >>> 0).toBe((13 | 8 << 4 | 4 << 8 | 0x44444 << 12) >>> 0);
  });

  it('packs with a given mask and rejects a mask keeping more than 2 of a group', () => {
    const w = [1, 2, 3, 4];
    const dense = (mask: number[]): number[] => {
      const { values, indices } = packSparse24Int8(w, 1, 4, Uint8Array.from(mask));
      return [...unpackSparse24(values, indices, 1, 4)];
    };
    expect(dense([1, 0, 0, 1])).toEqual([32, 0, 0, 127]);
    expect(dense([0, 1, 0, 0])).toEqual([0, 127, 0, 0]);
    expect(() => dense([1, 1, 1, 0])).toThrow(ModelFormatError);
  });

  it('rejects invalid codes, nonzero values past K and wrong lengths', () => {
    const { values, indices } = packSparse24Int8([1, 2, 3, 4, 5], 1, 5);
    expect(() => unpackSparse24(values, Int32Array.of((indices[0]! & ~0xf) | 0b0101), 1, 5)).toThrow(ModelFormatError);
    // Group 1 is (0, 1) over positions 4 and 5; byte 3 is its value at 5, past K.
    expect(() => unpackSparse24(Int32Array.of(values[0]! | 0x7f000000), indices, 1, 5)).toThrow(ModelFormatError);
    expect(() => unpackSparse24(values, indices, 2, 5)).toThrow(ShapeError);
    expect(() => prune24([1, 2, 3], 1, 4)).toThrow(ShapeError);
    expect(() => packSparse24Int8([1, 2, 3, 4], 1, 4, new Uint8Array(3))).toThrow(ShapeError);
  });
});
