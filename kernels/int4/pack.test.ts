import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { floatToHalf, halfToFloat } from '../../core/half.js';
import type { Tensor } from '../../core/tensor.js';
import { randomTensor } from '../testing/harness.js';
import { GROUP, groupsOf, nibble, quantizeInt4Blocks, unpackInt4Blocks, widenHalfScales, zeroPointWords, type ScaleDtype } from './pack.js';

/** W as the kernels see it: scale[n, g] · (u - z), [N, K]. */
function dequantize(w: Tensor, zeroPoint: boolean, scaleDtype: ScaleDtype): { values: Float64Array; scales: ArrayLike<number> } {
  const [n, k] = w.dims as [number, number];
  const q = quantizeInt4Blocks(w, { zeroPoint, scaleDtype });
  const groups = groupsOf(k);
  const scales = scaleDtype === 'float16' ? widenHalfScales(q.scales.data, n, groups) : q.scales.data;
  const ints = unpackInt4Blocks(q.packed.data, q.zeroPoints?.data, n, k);
  // In f64: the quantizer scores its candidates exactly so, and f32 products would blur ties.
  return { values: Float64Array.from(ints, (v, i) => v * scales[Math.floor(i / k) * groups + ((i % k) >> 5)]!), scales };
}

const shape = fc.record({ n: fc.integer({ min: 1, max: 5 }), k: fc.integer({ min: 1, max: 100 }), seed: fc.nat() });

describe('fp16 conversion', () => {
  it('rounds to the nearest half, ties to even, with subnormals and overflow', () => {
    const cases: [number, number][] = [
      [1, 0x3c00], [-2, 0xc000], [65504, 0x7bff], [65519.99, 0x7bff], [65520, 0x7c00], [0.1, 0x2e66],
      [2 ** -24, 0x0001], [2 ** -25, 0x0000], [3 * 2 ** -25, 0x0002], [2 ** -14, 0x0400], [2 ** -14 - 2 ** -25, 0x0400],
      [1 + 2 ** -11, 0x3c00], [1 + 3 * 2 ** -11, 0x3c02], [-0, 0x8000], [Infinity, 0x7c00],
    ];
    for (const [x, h] of cases) expect(floatToHalf(x), `floatToHalf(${x})`).toBe(h);
    expect(halfToFloat(floatToHalf(NaN))).toBeNaN();
  });

  it('no other half is nearer', () => {
    fc.assert(fc.property(fc.float({ min: -65000, max: 65000, noNaN: true }), (x) => {
      const h = floatToHalf(x);
      const err = Math.abs(halfToFloat(h) - x);
      for (const nb of [h - 1, h + 1]) if ((nb & 0x7c00) !== 0x7c00 && nb >= 0 && (nb & 0x7fff) !== 0x7fff) expect(err).toBeLessThanOrEqual(Math.abs(halfToFloat(nb) - x));
    }), { numRuns: 500 });
  });
});

describe('quantizeInt4Blocks', () => {
  it('symmetric: each group no worse than the textbook max|w|/7 scale, in squared error', () => {
    fc.assert(fc.property(shape, fc.constantFrom<ScaleDtype>('float32', 'float16'), ({ n, k, seed }, dtype) => {
      const w = randomTensor('float32', [n, k], seed);
      const { values } = dequantize(w, false, dtype);
      for (let r = 0; r < n; r++) {
        for (let g0 = 0; g0 < k; g0 += GROUP) {
          const idx = Array.from({ length: Math.min(GROUP, k - g0) }, (_, i) => r * k + g0 + i);
          const amax = Math.max(...idx.map((i) => Math.abs(w.data[i]!)));
          const stored = (x: number): number => (dtype === 'float16' ? halfToFloat(floatToHalf(x)) : Math.fround(x));
          const textbook = stored(amax / 7);
          const err = (i: number, s: number): number => w.data[i]! - (s === 0 ? 0 : Math.min(7, Math.max(-7, Math.round(w.data[i]! / s))) * s);
          const bound = idx.reduce((sum, i) => sum + err(i, textbook) ** 2, 0);
          const sse = idx.reduce((sum, i) => sum + (w.data[i]! - values[i]!) ** 2, 0);
          expect(sse).toBeLessThanOrEqual(bound * (1 + 1e-9));
        }
      }
    }), { numRuns: 40 });
  });

  it('asymmetric: every weight within half a step of its group grid', () => {
    fc.assert(fc.property(shape, ({ n, k, seed }) => {
      const w = randomTensor('float32', [n, k], seed, [-0.5, 3]);
      const { values, scales } = dequantize(w, true, 'float32');
      const groups = groupsOf(k);
      for (let i = 0; i < n * k; i++) {
        const step = scales[Math.floor(i / k) * groups + ((i % k) >> 5)]!;
        expect(Math.abs(w.data[i]! - values[i]!)).toBeLessThanOrEqual(step / 2 + 1e-6);
      }
    }), { numRuns: 40 });
  });

  it('weights already on a 16-level grid come back exactly', () => {
    const k = 64;
    const data = Float32Array.from({ length: 2 * k }, (_, i) => 0.125 * (((i * 5) % 16) - 8));
    for (const zeroPoint of [false, true]) {
      const { values } = dequantize({ dtype: 'float32', dims: [2, k], data }, zeroPoint, 'float16');
      expect(Array.from(values)).toEqual(Array.from(data));
    }
  });

  it('pads past K with the zero point, so padded weights are 0; all-zero groups get scale 0', () => {
    const w = randomTensor('float32', [3, 40], 7);
    w.data.fill(0, 40, 80);
    const q = quantizeInt4Blocks(w, { zeroPoint: true });
    for (let r = 0; r < 3; r++) {
      const z = nibble(q.zeroPoints!.data, r * zeroPointWords(2), 1);
      for (let i = 8; i < 32; i++) expect(nibble(q.packed.data, (r * 2 + 1) * 4, i)).toBe(z);
    }
    expect([q.scales.data[2], q.scales.data[3]]).toEqual([0, 0]);
  });

  it('stores 4.5 bits per weight with fp16 scales and no zero points', () => {
    const q = quantizeInt4Blocks(randomTensor('float32', [64, 256], 1), { zeroPoint: false, scaleDtype: 'float16' });
    expect((q.packed.data.byteLength + q.scales.data.byteLength) * 8 / (64 * 256)).toBe(4.5);
  });
});
