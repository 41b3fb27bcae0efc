import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planMemory, type Lifetime } from './memory-plan.js';

const lifetimeArb = fc
  .tuple(fc.integer({ min: 1, max: 4096 }), fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 10 }), fc.boolean())
  .map(([bytes, first, span, forever]): Lifetime => ({ bytes, first, last: forever ? Infinity : first + span }));

describe('memory plan', () => {
  it('never gives two overlapping lifetimes the same buffer, and every buffer fits its tensors', () => {
    fc.assert(fc.property(fc.array(lifetimeArb, { maxLength: 40 }), (lifetimes) => {
      const { assignment, bufferBytes } = planMemory(lifetimes);
      lifetimes.forEach((a, i) => {
        expect(bufferBytes[assignment[i]!]!).toBeGreaterThanOrEqual(a.bytes);
        lifetimes.forEach((b, j) => {
          if (i < j && assignment[i] === assignment[j]) expect(a.last < b.first || b.last < a.first).toBe(true);
        });
      });
    }));
  });

  it('reuses memory along a chain: a feed-forward stack needs two buffers, not one per layer', () => {
    const chain = Array.from({ length: 10 }, (_, k): Lifetime => ({ bytes: 1024, first: k, last: k + 1 }));
    expect(planMemory(chain).bufferBytes).toHaveLength(2);
  });
});
