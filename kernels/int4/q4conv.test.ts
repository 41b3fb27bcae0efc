import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ModelFormatError, ShapeError, UnsupportedOpError } from '../../core/errors.js';
import type { Attrs } from '../../core/ir/graph.js';
import type { Tensor } from '../../core/tensor.js';
import { integerFloats, runEverywhere, runGpuWithFeatures } from '../quant/test-util.js';
import { convGeometry } from '../testing/conv-cases.js';
import { expectClose, randomTensor, runOp } from '../testing/harness.js';
import { quantizeInt4Blocks, type ScaleDtype } from './pack.js';
import { checkFusedRelu, CONSTS } from './test-util.js';

/**
 * Q4Conv on WebGPU and the CPU against the reference: the float Conv tests' random geometries
 * (group 1), float and int8 activations, zero points, fp16 scales, fused activations; chunked
 * CPU gathers; exact integer results; typed refusals.
 */

const FLOAT_TOL = { atol: 2e-4, rtol: 1e-4 };
const INT8_TOL = { atol: 1e-4, rtol: 1e-4 };

interface ConvCase {
  readonly x: number[];
  readonly cout: number;
  readonly k: number;
  readonly bias: boolean;
  readonly zeroPoint: boolean;
  readonly scaleDtype: ScaleDtype;
  readonly attrs: Attrs;
}

const caseArb = fc.record({
  g: convGeometry(false, { minRank: 2, maxCinG: 7, maxCoutG: 9, maxExtra: 8 }).filter((g) => g.attrs.group === 1),
  mode: fc.constantFrom<Attrs>({}, { act_scale: 0.02 }, { act_int8: 1 }),
  act: fc.constantFrom<Attrs>({}, { _activation: 'Relu', _alpha: 0, _beta: 0 }, { _activation: 'HardSwish', _alpha: 0, _beta: 0 }),
  zeroPoint: fc.boolean(),
  scaleDtype: fc.constantFrom<ScaleDtype>('float32', 'float16'),
}).map(({ g, mode, act, zeroPoint, scaleDtype }): ConvCase => {
  const k = g.w.slice(1).reduce((a, b) => a * b, 1);
  return { x: g.x, cout: g.w[0]!, k, bias: g.bias, zeroPoint, scaleDtype, attrs: { kernel_shape: g.kernel, ...g.attrs, k, ...mode, ...act } };
});

function inputsOf(c: ConvCase, seed: number): (Tensor | undefined)[] {
  const q = quantizeInt4Blocks(randomTensor('float32', [c.cout, c.k], seed + 1), { zeroPoint: c.zeroPoint, scaleDtype: c.scaleDtype });
  return [randomTensor('float32', c.x, seed, [-2, 2]), q.packed, q.scales, q.zeroPoints, c.bias ? randomTensor('float32', [c.cout], seed + 2) : undefined];
}

async function check(c: ConvCase, seed: number): Promise<void> {
  const [gpu, cpu, ref] = await runEverywhere('Q4Conv', inputsOf(c, seed), c.attrs, CONSTS);
  const tol = c.attrs.act_scale || c.attrs.act_int8 ? INT8_TOL : FLOAT_TOL;
  expectClose(gpu!, ref!, tol, 'webgpu');
  expectClose(cpu!, ref!, tol, 'cpu');
}

/** int4 codes u - 8 = (i·5 + c·3) % 16 - 8 with power-of-two scales: W is exact, as integer X at act_scale 1 keeps every product. */
function exactWeights(cout: number, k: number): { w: Tensor; scales: Tensor; values: Int32Array } {
  const groups = Math.ceil(k / 32);
  const values = new Int32Array(cout * k);
  const words = new Int32Array(cout * groups * 4);
  for (let c = 0; c < cout; c++) {
    for (let i = 0; i < groups * 32; i++) {
      const u = i < k ? (i * 5 + c * 3) % 16 : 8;
      if (i < k) values[c * k + i] = (u - 8) * 2 ** (Math.floor(i / 32) % 2);
      words[c * groups * 4 + (i >> 3)]! |= u << (4 * (i & 7));
    }
  }
  const scales = Float32Array.from({ length: cout * groups }, (_, i) => 2 ** ((i % groups) % 2));
  return { w: { dtype: 'int32', dims: [cout, groups * 4], data: words }, scales: { dtype: 'float32', dims: [cout, groups], data: scales }, values };
}

describe('Q4Conv', () => {
  it('matches the reference: strides, pads, dilations, auto_pad, float and int8 activations, zero points, fp16 scales, fused activations', async () => {
    await fc.assert(fc.asyncProperty(caseArb, fc.nat(), check), { numRuns: 16 });
  });

  it('medium: 3x3 16→24 on 30x29 (several CPU chunks, the GEMM path) and pointwise 24→20 with one pixel (the GEMV path)', async () => {
    const base = { bias: true, zeroPoint: false, scaleDtype: 'float16' as const };
    await check({ ...base, x: [2, 16, 30, 29], cout: 24, k: 144, attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1], k: 144 } }, 1);
    await check({ ...base, x: [2, 16, 30, 29], cout: 24, k: 144, attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1], k: 144, act_scale: 0.02 } }, 2);
    await check({ ...base, x: [1, 24, 1, 1], cout: 20, k: 24, attrs: { kernel_shape: [1, 1], k: 24, _activation: 'Relu', _alpha: 0, _beta: 0 } }, 3);
  });

  it('integer activations at act_scale 1 and exact weights give the integer convolution on every backend and both WGSL dot variants', async () => {
    const [cin, cout, h, w] = [9, 6, 7, 5];
    const k = cin * 9;
    const x = integerFloats([2, cin, h, w], 4);
    const { w: wq, scales, values } = exactWeights(cout, k);
    const expected = new Float32Array(2 * cout * h * w);
    for (let b = 0; b < 2; b++) {
      for (let co = 0; co < cout; co++) {
        for (let oy = 0; oy < h; oy++) {
          for (let ox = 0; ox < w; ox++) {
            let acc = 0;
            for (let ci = 0; ci < cin; ci++) {
              for (let t = 0; t < 9; t++) {
                const [iy, ix] = [oy - 1 + Math.floor(t / 3), ox - 1 + (t % 3)];
                if (iy >= 0 && ix >= 0 && iy < h && ix < w) acc += x.data[((b * cin + ci) * h + iy) * w + ix]! * values[co * k + ci * 9 + t]!;
              }
            }
            expected[((b * cout + co) * h + oy) * w + ox] = acc;
          }
        }
      }
    }
    const inputs = [x, wq, scales, undefined, undefined];
    for (const mode of [{ act_scale: 1 }, {}] as Attrs[]) {
      const attrs = { kernel_shape: [3, 3], pads: [1, 1, 1, 1], k, ...mode };
      const outs = await runEverywhere('Q4Conv', inputs, attrs, CONSTS);
      if ('act_scale' in mode) outs.push(await runGpuWithFeatures('Q4Conv', inputs, attrs, new Set(), CONSTS));
      for (const out of outs) expect(out.data).toEqual(expected);
    }
  });

  it('a static int8 scale on the CPU (qconv.c\'s conv core) equals the reference bit for bit', async () => {
    // K off whole groups of 32 and over several, zero points, fp16 scales, strides, pads, dilation,
    // a pointwise layer, channels off whole blocks of 4, batch 2, Relu and Clip (exact in every engine).
    const cases: ConvCase[] = [
      { x: [2, 5, 9, 11], cout: 6, k: 45, bias: true, zeroPoint: true, scaleDtype: 'float16', attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1], k: 45, act_scale: 0.03 } },
      { x: [1, 16, 14, 14], cout: 32, k: 144, bias: true, zeroPoint: false, scaleDtype: 'float16', attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1], k: 144, act_scale: 0.02, _activation: 'Relu', _alpha: 0, _beta: 0 } },
      { x: [1, 7, 12, 10], cout: 9, k: 63, bias: false, zeroPoint: true, scaleDtype: 'float32', attrs: { kernel_shape: [3, 3], strides: [2, 1], dilations: [1, 2], pads: [0, 2, 1, 0], k: 63, act_scale: 0.05, _activation: 'Clip', _alpha: -1, _beta: 6 } },
      { x: [1, 40, 5, 6], cout: 3, k: 40, bias: true, zeroPoint: false, scaleDtype: 'float32', attrs: { kernel_shape: [1, 1], k: 40, act_scale: 0.04 } },
    ];
    for (const [i, c] of cases.entries()) {
      const inputs = inputsOf(c, 70 + i);
      const [cpu] = await runOp('cpu', 'Q4Conv', inputs, c.attrs, CONSTS);
      const [ref] = await runOp('reference', 'Q4Conv', inputs, c.attrs, CONSTS);
      expect(Math.max(...ref!.data.map(Math.abs)), `case ${i}`).toBeGreaterThan(0.1);
      expect(cpu!.data, `case ${i}`).toEqual(ref!.data);
    }
  });

  it('a following Relu fuses into it', async () => {
    const c: ConvCase = { x: [1, 3, 8, 8], cout: 5, k: 27, bias: true, zeroPoint: true, scaleDtype: 'float16', attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1], k: 27 } };
    await checkFusedRelu('Q4Conv', inputsOf(c, 5), c.attrs, FLOAT_TOL);
  });

  it('refuses what it cannot run with typed errors', async () => {
    const c: ConvCase = { x: [1, 4, 6, 6], cout: 3, k: 36, bias: false, zeroPoint: false, scaleDtype: 'float32', attrs: { kernel_shape: [3, 3], k: 36 } };
    const inputs = inputsOf(c, 9);
    const cases: [(Tensor | undefined)[], Attrs, new (...args: never[]) => Error][] = [
      [inputs, { ...c.attrs, group: 2 }, UnsupportedOpError],
      [inputs, { k: 36 }, ModelFormatError],
      [inputs, { ...c.attrs, k: 35 }, ShapeError],
      [inputs, { ...c.attrs, kernel_shape: [2, 2] }, ShapeError],
      [[randomTensor('float32', [4, 6, 6], 1), ...inputs.slice(1)], c.attrs, ShapeError],
      [[inputs[0], randomTensor('int32', [3, 4], 1), ...inputs.slice(2)], c.attrs, ShapeError],
      [inputs, { ...c.attrs, act_int8: 2 }, ModelFormatError],
    ];
    for (const [bad, attrs, error] of cases) await expect(runOp('cpu', 'Q4Conv', bad, attrs, CONSTS)).rejects.toThrow(error);
  });
});
