import { describe, it } from 'vitest';
import type { Attrs } from '../../core/ir/graph.js';
import type { Tensor } from '../../core/tensor.js';
import { randomTensor } from '../testing/harness.js';
import { checkCpu } from './test-models.js';

/**
 * CPU-only edges of the GEMM core (gemm-core.h): sizes on either side of the 4x8 tile, the K block
 * (512), the M block (64) and the run-time packing block, K = 0 and empty outputs, every fused
 * activation. Compared with the reference only: the WebGPU side has its own tests.
 */

const t = (dims: number[], seed: number): Tensor => randomTensor('float32', dims, seed);

describe('CPU GEMM tile and block edges', () => {
  it('M and N around the 4x8 tile, K not a multiple of 4, B constant and not', async () => {
    let seed = 1;
    for (const m of [1, 2, 3, 4, 5, 9]) {
      for (const n of [1, 7, 8, 9, 17]) {
        for (const k of [1, 3, 6]) {
          for (const constB of [true, false]) await checkCpu('MatMul', [t([m, k], seed++), t([k, n], seed++)], {}, { constInputs: constB ? [1] : [] });
        }
      }
    }
  });

  it('K across the 512 block, M across the 64 block', async () => {
    for (const [m, k, n] of [[5, 511, 9], [6, 512, 16], [7, 513, 13], [3, 1100, 11], [63, 40, 9], [64, 3, 8], [133, 600, 17]] as const) {
      await checkCpu('MatMul', [t([m, k], m + k), t([k, n], n)], {}, { atol: 1e-3, rtol: 1e-3, constInputs: [1] });
      await checkCpu('MatMul', [t([m, k], m + k), t([k, n], n)], {}, { atol: 1e-3, rtol: 1e-3 });
    }
  });

  it('run-time B packed in several column blocks (transB, N past the block)', async () => {
    // K = 600 packs 24 columns at a time: N = 250 takes 11 blocks, the last partial.
    await checkCpu('Gemm', [t([6, 600], 1), t([250, 600], 2), t([250], 3)], { transB: 1, alpha: 0.7, beta: -1.25 }, { atol: 1e-3, rtol: 1e-3 });
    await checkCpu('Gemm', [t([600, 5], 4), t([600, 250], 5), t([5, 1], 6)], { transA: 1 }, { atol: 1e-3, rtol: 1e-3 });
  });

  it('batched with broadcast on either side, constant batched B', async () => {
    await checkCpu('MatMul', [t([2, 3, 5, 7], 1), t([3, 7, 9], 2)], {}, { constInputs: [1] });
    await checkCpu('MatMul', [t([1, 5, 7], 3), t([4, 7, 9], 4)], {}, { constInputs: [1] });
    await checkCpu('MatMul', [t([4, 5, 7], 5), t([1, 7, 9], 6)]);
    await checkCpu('MatMul', [t([3, 1, 5, 7], 7), t([2, 7, 9], 8)], {}, { constInputs: [1] });
  });

  it('K = 0 gives C (or zeros), empty outputs make no call', async () => {
    await checkCpu('Gemm', [t([3, 0], 1), t([0, 5], 2), t([5], 3)], { beta: 2 }, { constInputs: [1] });
    await checkCpu('MatMul', [t([3, 0], 1), t([0, 5], 2)]);
    await checkCpu('MatMul', [t([0, 4], 1), t([4, 5], 2)], {}, { constInputs: [1] });
    await checkCpu('MatMul', [t([3, 4], 1), t([4, 0], 2)]);
    await checkCpu('MatMul', [t([0, 3, 4], 1), t([4, 5], 2)], {}, { constInputs: [1] });
  });

  it('every fused activation, on full and partial tiles', async () => {
    const acts: Attrs[] = [
      { _activation: 'Relu' }, { _activation: 'LeakyRelu', _alpha: 0.2 }, { _activation: 'Clip', _alpha: -0.5, _beta: 1.5 },
      { _activation: 'Sigmoid' }, { _activation: 'HardSigmoid', _alpha: 0.3, _beta: 0.4 }, { _activation: 'HardSwish' },
      { _activation: 'Tanh' }, { _activation: 'Gelu' },
    ];
    for (const act of acts) await checkCpu('Gemm', [t([5, 13], 1), t([13, 11], 2), t([11], 3)], { ...act, _alpha: act._alpha ?? 0, _beta: act._beta ?? 0 }, { constInputs: [1, 2] });
  });
});
