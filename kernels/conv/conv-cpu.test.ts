import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Attrs } from '../../core/ir/graph.js';
import type { Tensor } from '../../core/tensor.js';
import { randomTensor } from '../testing/harness.js';
import { checkCpu } from '../matmul/test-models.js';
import type { KnownValue } from '../op.js';
import { opRegistry } from '../registry.js';

/**
 * CPU-only edges of the conv kernels: im2col panels that cross output rows, several column blocks,
 * the stride-1/2 vector paths and the generic stride, asymmetric pads; depthwise rows around its
 * 16-output step, every stride path, channel multipliers, batches; 1-D; activations.
 */

const TOL = { atol: 2e-4, rtol: 2e-4 };
const t = (dims: number[], seed: number, range: [number, number] = [-2, 2]): Tensor => randomTensor('float32', dims, seed, range);

async function conv(x: number[], w: number[], attrs: Attrs, seed: number, bias = true): Promise<void> {
  await checkCpu('Conv', [t(x, seed), t(w, seed + 1, [-0.3, 0.3]), bias ? t([w[0]!], seed + 2) : undefined], attrs, { ...TOL, constInputs: [1, 2] });
}

describe('CPU conv2d (GEMM) edges', () => {
  it('im2col: panels across rows, strides 1/2/3, dilation, asymmetric pads', async () => {
    let seed = 1;
    for (const wo of [3, 5, 8, 9, 16, 17]) {
      for (const s of [1, 2, 3]) {
        const w = (wo - 1) * s + 3;
        await conv([1, 3, 6, w], [5, 3, 3, 3], { strides: [1, s] }, seed++);
        await conv([1, 3, 6, w], [5, 3, 3, 3], { strides: [s, s], pads: [0, 1, 2, 1], dilations: [1, 2] }, seed++);
      }
    }
  });

  it('several im2col column blocks and grouped channels, batch 2', async () => {
    // K = 64 * 9 = 576 packs 24 pixels at a time: 20 x 20 takes 17 blocks, the last partial.
    await conv([2, 64, 20, 20], [9, 64, 3, 3], { pads: [1, 1, 1, 1] }, 10);
    await conv([2, 6, 11, 13], [9, 2, 3, 2], { group: 3, pads: [1, 0, 1, 1], strides: [2, 1] }, 11);
  });

  it('pointwise: pixels across several column blocks and off the panel width', async () => {
    // K = 700 packs 16 pixels at a time: 250 pixels take 16 blocks, the last partial.
    await conv([1, 700, 10, 25], [13, 700, 1, 1], {}, 20);
    await conv([2, 5, 3, 3], [6, 5, 1, 1], {}, 21, false);
    await conv([1, 7, 9, 9], [5, 7, 1, 1], { strides: [2, 2] }, 22);
  });

  it('1-D: an STFT-like large-kernel strided conv, and SAME padding', async () => {
    await conv([1, 1, 2000], [66, 1, 256], { strides: [80] }, 30);
    await conv([2, 4, 37], [6, 4, 5], { auto_pad: 'SAME_UPPER', strides: [2] }, 31);
  });
});

describe('CPU depthwise edges', () => {
  it('output rows around the 16-wide step, strides 1/2/3, dilations, pads, multipliers', async () => {
    await fc.assert(fc.asyncProperty(
      fc.integer({ min: 1, max: 35 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 2 }),
      fc.integer({ min: 1, max: 5 }), fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 4, maxLength: 4 }), fc.integer({ min: 1, max: 2 }), fc.nat(),
      async (wo, sh, sw, d, k, pads, mult, seed) => {
        const span = (k - 1) * d + 1;
        const w = Math.max(1, (wo - 1) * sw + span - pads[1]! - pads[3]!);
        const h = Math.max(1, 2 * sh + span - pads[0]! - pads[2]!);
        await conv([2, 3, h, w], [3 * mult, 1, k, k], { group: 3, strides: [sh, sw], dilations: [d, d], pads }, seed);
      }), { numRuns: 40 });
  });

  it('1-D depthwise and BlazeFace-like 5x5 stride 2', async () => {
    await conv([1, 8, 50], [8, 1, 5], { group: 8, pads: [2, 2] }, 40);
    await conv([1, 24, 33, 33], [24, 1, 5, 5], { group: 24, strides: [2, 2], pads: [1, 1, 2, 2] }, 41, false);
  });
});

describe('CPU conv activations', () => {
  it('every fused activation on the GEMM, depthwise and transposed kernels', async () => {
    const acts: Attrs[] = [
      { _activation: 'Relu' }, { _activation: 'LeakyRelu', _alpha: 0.2 }, { _activation: 'Clip', _alpha: -0.5, _beta: 1.5 },
      { _activation: 'Sigmoid' }, { _activation: 'HardSigmoid', _alpha: 0.3, _beta: 0.4 }, { _activation: 'HardSwish' },
      { _activation: 'Tanh' }, { _activation: 'Gelu' },
    ];
    for (const a of acts) {
      const act = { ...a, _alpha: a._alpha ?? 0, _beta: a._beta ?? 0 };
      await conv([1, 4, 7, 9], [6, 4, 3, 3], { ...act, pads: [1, 1, 1, 1] }, 50);
      await conv([1, 4, 7, 21], [4, 1, 3, 3], { ...act, group: 4 }, 51);
      await checkCpu('ConvTranspose', [t([1, 4, 5, 6], 52), t([4, 3, 3, 3], 53, [-0.3, 0.3]), t([3], 54)], { ...act, strides: [2, 2] }, { ...TOL, constInputs: [1, 2] });
    }
  });
});

/** The CPU kernel a Conv with these dims and attrs plans to. */
function cpuKernelOf(x: number[], w: number[], attrs: Attrs, residual?: number[]): string {
  const node = { name: 'c', opType: 'Conv', domain: '', inputs: ['x', 'w', '', ...(residual ? ['r'] : [])], outputs: ['y'], attrs };
  const inputs: (KnownValue | undefined)[] = [{ dtype: 'float32', dims: x }, { dtype: 'float32', dims: w, value: t(w, 1) }, undefined, residual && { dtype: 'float32', dims: residual }];
  const plan = opRegistry.Conv!.cpu!({ node, opset: 17, inputs, outputs: [] });
  return plan.kind === 'call' ? plan.calls[0]!.fn : plan.kind;
}

describe('CPU Winograd F(4,3) for 1x3 / 3x1 convs', () => {
  it('is chosen only for 3 taps along one axis, stride and dilation 1, one group, ≥ 8 channels', () => {
    expect(cpuKernelOf([1, 8, 5, 9], [8, 8, 1, 3], {})).toBe('conv_winograd_f32');
    expect(cpuKernelOf([1, 8, 9, 5], [8, 8, 3, 1], { pads: [1, 0, 1, 0] })).toBe('conv_winograd_f32');
    expect(cpuKernelOf([1, 8, 20], [8, 8, 3], {})).toBe('conv_winograd_f32');
    expect(cpuKernelOf([1, 8, 5, 9], [8, 8, 3, 3], {})).toBe('conv2d_f32');
    expect(cpuKernelOf([1, 8, 5, 9], [8, 8, 1, 3], { strides: [1, 2] })).toBe('conv2d_f32');
    expect(cpuKernelOf([1, 8, 5, 9], [8, 4, 1, 3], { group: 2 })).toBe('conv2d_f32');
    expect(cpuKernelOf([1, 4, 5, 9], [8, 4, 1, 3], {})).toBe('conv2d_f32');
    // winograd.c has no residual epilogue: a conv with a fused residual takes conv2d.c.
    expect(cpuKernelOf([1, 8, 5, 9], [8, 8, 1, 3], {}, [1, 8, 5, 7])).toBe('conv2d_residual_f32');
  });

  it('both axes, output lengths around the 4-wide tile, pads, batches, tile blocks, activation', async () => {
    let seed = 60;
    for (const len of [4, 5, 7, 8, 13, 34]) {
      for (const [cin, cout] of [[8, 8], [9, 13], [24, 48]] as const) {
        await conv([1, cin, 3, len + 2], [cout, cin, 1, 3], {}, seed++);
        await conv([2, cin, len, 5], [cout, cin, 3, 1], { pads: [1, 0, 1, 2] }, seed++);
      }
    }
    await conv([1, 16, 74, 32], [24, 16, 3, 1], { _activation: 'LeakyRelu', _alpha: 0.2, _beta: 0 }, seed++);
    await conv([1, 48, 34, 16], [48, 48, 1, 3], { pads: [0, 1, 0, 1], _activation: 'LeakyRelu', _alpha: 0.2, _beta: 0 }, seed++);
    await conv([1, 12, 40], [10, 12, 3], { auto_pad: 'SAME_UPPER' }, seed++);
  });
});
