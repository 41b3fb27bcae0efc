import fc from 'fast-check';
import type { Tensor } from '../../core/tensor.js';
import { TESSERA_DOMAIN } from '../registry.js';
import { randomTensor } from '../testing/harness.js';
import { quantizeInt4Blocks, type ScaleDtype } from './pack.js';

/** Shared by the Q4MatMul tests (float and int8 activations): cases, their inputs, the run options. */

export interface Case {
  readonly batch: readonly number[];
  readonly m: number;
  readonly k: number;
  readonly n: number;
  readonly zeroPoint: boolean;
  readonly scaleDtype: ScaleDtype;
  readonly bias: boolean;
  readonly seed: number;
}

/** Inputs for one case, the weights already quantized; inputs 1-4 are held as initializers. */
export function q4Inputs(c: Case): (Tensor | undefined)[] {
  const q = quantizeInt4Blocks(randomTensor('float32', [c.n, c.k], c.seed + 1), { zeroPoint: c.zeroPoint, scaleDtype: c.scaleDtype });
  return [
    randomTensor('float32', [...c.batch, c.m, c.k], c.seed),
    q.packed, q.scales, q.zeroPoints,
    c.bias ? randomTensor('float32', [c.n], c.seed + 2) : undefined,
  ];
}

export const CONSTS = { constInputs: [1, 2, 3, 4], domain: TESSERA_DOMAIN };

export const caseArb = fc.record({
  batch: fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }),
  m: fc.integer({ min: 1, max: 9 }),
  k: fc.integer({ min: 1, max: 150 }),
  n: fc.integer({ min: 1, max: 70 }),
  zeroPoint: fc.boolean(),
  scaleDtype: fc.constantFrom<ScaleDtype>('float32', 'float16'),
  bias: fc.boolean(),
  seed: fc.nat(),
});
