import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ModelFormatError, ShapeError } from '../../core/errors.js';
import type { Attrs, Model } from '../../core/ir/graph.js';
import { Session, type Backend } from '../../core/session.js';
import type { Tensor } from '../../core/tensor.js';
import { planModel } from '../../core/runtime/plan.js';
import { packQConvChains } from '../../core/runtime/webgpu/packed-fusion.js';
import { fusePooledQConvs } from '../../core/runtime/webgpu/pool-fusion.js';
import { TESSERA_DOMAIN } from '../registry.js';
import { convGeometry } from '../testing/conv-cases.js';
import { expectClose, oneNodeModel, randomTensor, testDevice } from '../testing/harness.js';
import { PACK_OUT_ATTR, PACKED_IN_ATTR } from './qconv.js';
import { integerFloats, integerWeights, Q_OPTIONS, quantizedWeights, runEverywhere, runGpuWithFeatures } from './test-util.js';

const TOL = { atol: 1e-5, rtol: 1e-5 };
interface ConvCase {
  readonly x: number[];
  readonly cout: number;
  readonly k: number;
  readonly bias: boolean;
  readonly attrs: Attrs;
}

/** Random 2-D QConv problems (the float Conv tests' geometry) with static or dynamic scales and fused activations. */
const convCase = (depthwise: boolean) => fc.record({
  g: convGeometry(depthwise, { minRank: 2, maxCinG: 6, maxCoutG: 9, maxExtra: 8 }),
  actScale: fc.constantFrom(0, 0.02),
  act: fc.constantFrom(undefined, 'Relu', 'HardSwish'),
}).map(({ g, actScale, act }): ConvCase => {
  const k = g.w.slice(1).reduce((a, b) => a * b, 1);
  return {
    x: g.x,
    cout: g.w[0]!,
    k,
    bias: g.bias,
    attrs: {
      kernel_shape: g.kernel, ...g.attrs, k,
      ...(actScale ? { act_scale: actScale } : {}),
      ...(act ? { _activation: act, _alpha: 0, _beta: 0 } : {}),
    },
  };
});

function inputsOf(c: ConvCase, seed: number): (Tensor | undefined)[] {
  return [randomTensor('float32', c.x, seed, [-2, 2]), ...quantizedWeights(c.cout, c.k, seed + 3, c.bias)];
}

async function check(c: ConvCase, seed: number): Promise<void> {
  const [gpu, cpu, ref] = await runEverywhere('QConv', inputsOf(c, seed), c.attrs);
  expectClose(gpu!, ref!, TOL, 'webgpu');
  expectClose(cpu!, ref!, TOL, 'cpu');
}

describe('QConv', () => {
  it('matches the reference: groups, strides, pads, dilations, auto_pad, static and dynamic scales, fused activations', async () => {
    await fc.assert(fc.asyncProperty(convCase(false), fc.nat(), check), { numRuns: 16 });
  });

  it('depthwise (with channel multiplier)', async () => {
    await fc.assert(fc.asyncProperty(convCase(true), fc.nat(), check), { numRuns: 10 });
  });

  it('medium: 3x3 16→24 on 30x29 (many pixel chunks) and pointwise 24→20', async () => {
    await check({ x: [2, 16, 30, 29], cout: 24, k: 144, bias: true, attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1], k: 144 } }, 1);
    await check({ x: [1, 24, 17, 19], cout: 20, k: 24, bias: false, attrs: { kernel_shape: [1, 1], k: 24, act_scale: 0.02, _activation: 'Relu' } }, 2);
  });

  it('integer accumulators are bit-identical on every backend and both WGSL variants', async () => {
    // Kc = 48·3·3 = 432 with 2 groups; padding taps contribute 0.
    const [cin, cout, group, h, w] = [96, 10, 2, 7, 6];
    const k = (cin / group) * 9;
    const x = integerFloats([2, cin, h, w], 4);
    const { w: wq, wscale, values } = integerWeights(cout, k, 5);
    const attrs = { kernel_shape: [3, 3], pads: [1, 1, 1, 1], group, k, act_scale: 1 };
    const expected = new Float32Array(2 * cout * h * w);
    for (let b = 0; b < 2; b++) {
      for (let co = 0; co < cout; co++) {
        const g = Math.floor(co / (cout / group));
        for (let oy = 0; oy < h; oy++) {
          for (let ox = 0; ox < w; ox++) {
            let acc = 0;
            for (let ci = 0; ci < cin / group; ci++) {
              for (let t = 0; t < 9; t++) {
                const [iy, ix] = [oy - 1 + Math.floor(t / 3), ox - 1 + (t % 3)];
                if (iy < 0 || ix < 0 || iy >= h || ix >= w) continue;
                acc += x.data[((b * cin + g * (cin / group) + ci) * h + iy) * w + ix]! * values[co * k + ci * 9 + t]!;
              }
            }
            expected[((b * cout + co) * h + oy) * w + ox] = acc;
          }
        }
      }
    }
    expect(Math.max(...expected.map(Math.abs))).toBeGreaterThan(2 ** 16);
    const inputs = [x, wq, wscale, undefined];
    const outs = [...(await runEverywhere('QConv', inputs, attrs)), await runGpuWithFeatures('QConv', inputs, attrs, new Set())];
    for (const out of outs) expect(out.data).toEqual(expected);
  });

  it('the CPU conv core\'s edges, exactly: odd K, P and Cout off the 8-pixel x 4-channel tile, quads split across rows, narrow rows, strides, chunks, depthwise tiles, a single output pixel', async () => {
    // [x dims, cout, attrs]: integer activations at scale 1 and integer weights at unit scale, so
    // every output is its accumulator (through Relu / Clip, which are exact).
    const cases: [number[], number, [number, number], Attrs][] = [
      [[1, 1, 7, 9], 6, [3, 3], { pads: [1, 1, 1, 1], _activation: 'Relu', _alpha: 0, _beta: 0 }],
      [[1, 3, 5, 3], 5, [3, 3], { pads: [1, 1, 1, 1] }],
      [[2, 5, 6, 7], 9, [1, 3], { strides: [1, 2], _activation: 'Clip', _alpha: -3000, _beta: 2500 }],
      [[1, 16, 14, 14], 32, [3, 3], { pads: [1, 1, 1, 1] }],
      [[1, 2, 30, 31], 7, [3, 3], { dilations: [2, 1], pads: [0, 1, 2, 1] }],
      // Depthwise: 1 and 2 channels per group take the 4-quad x 1- and 2-channel tiles.
      [[1, 6, 5, 7], 6, [3, 3], { group: 6, pads: [1, 1, 1, 1], _activation: 'Relu', _alpha: 0, _beta: 0 }],
      [[2, 3, 6, 9], 6, [3, 3], { group: 3, pads: [1, 1, 1, 1] }],
      // One output pixel per image: WebGPU's matrix-vector kernel, K-major weights, 3 channels a group.
      [[2, 4, 3, 3], 6, [3, 3], { group: 2 }],
    ];
    for (const [i, [dims, cout, kernel, attrs]] of cases.entries()) {
      const k = (dims[1]! / ((attrs.group as number | undefined) ?? 1)) * kernel[0] * kernel[1];
      const { w, wscale } = integerWeights(cout, k, 20 + i);
      const [gpu, cpu, ref] = await runEverywhere('QConv', [integerFloats(dims, 10 + i), w, wscale, undefined], { ...attrs, kernel_shape: kernel, k, act_scale: 1 });
      expect(Math.max(...ref!.data.map(Math.abs))).toBeGreaterThan(1000);
      expect(cpu!.data, `case ${i}`).toEqual(ref!.data);
      expect(gpu!.data, `case ${i}`).toEqual(ref!.data);
    }
  });

  it('the per-image dynamic scale quantizes identically everywhere on the test adapter', async () => {
    const x = randomTensor('float32', [3, 5, 9, 8], 7, [-4, 4]);
    const { w, wscale } = integerWeights(6, 45, 8);
    const inputs = [x, w, wscale, undefined];
    const attrs = { kernel_shape: [3, 3], strides: [2, 1], k: 45 };
    const [gpu, cpu, ref] = await runEverywhere('QConv', inputs, attrs);
    expect(gpu!.data).toEqual(ref!.data);
    expect(cpu!.data).toEqual(ref!.data);
    expect((await runGpuWithFeatures('QConv', inputs, attrs, new Set())).data).toEqual(ref!.data);
  });

  it('a QConv that only a 2x2 MaxPool reads pools in its WebGPU epilogue, equal to the unfused pair elsewhere', async () => {
    // [x dims, cout, group, act_scale (0: dynamic), pool attrs, also expose the conv output, fused on WebGPU]
    const cases: [number[], number, number, number, Attrs, boolean, boolean][] = [
      [[1, 1, 28, 28], 16, 1, 0.02, { kernel_shape: [2, 2], strides: [2, 2] }, false, true],
      [[2, 6, 10, 14], 9, 3, 0, { kernel_shape: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0] }, false, true],
      // Odd output dims, a 3x3 window, a padded window and a second reader keep the pool separate.
      [[1, 4, 9, 9], 5, 1, 0.02, { kernel_shape: [2, 2], strides: [2, 2] }, false, false],
      [[1, 4, 10, 10], 5, 1, 0.02, { kernel_shape: [3, 3], strides: [2, 2] }, false, false],
      [[1, 4, 10, 10], 5, 1, 0.02, { kernel_shape: [2, 2], strides: [2, 2], pads: [1, 1, 1, 1] }, false, false],
      [[1, 4, 10, 10], 5, 1, 0.02, { kernel_shape: [2, 2], strides: [2, 2] }, true, false],
    ];
    for (const [i, [dims, cout, group, actScale, poolAttrs, expose, fused]] of cases.entries()) {
      const k = (dims[1]! / group) * 9;
      const [w, wscale, bias] = quantizedWeights(cout, k, 30 + i, true);
      const x = randomTensor('float32', dims, 40 + i, [-2, 2]);
      const model: Model = {
        opset: 17,
        producer: 'test',
        graph: {
          inputs: [{ name: 'x', dtype: 'float32', dims }],
          outputs: [{ name: 'y', dtype: 'float32', dims: [] }, ...(expose ? [{ name: 'r', dtype: 'float32' as const, dims: [] }] : [])],
          initializers: new Map([['w', w], ['s', wscale], ['b', bias!]]),
          nodes: [
            { name: 'conv', opType: 'QConv', domain: TESSERA_DOMAIN, inputs: ['x', 'w', 's', 'b'], outputs: ['c'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1], group, k, ...(actScale ? { act_scale: actScale } : {}) } },
            { name: 'relu', opType: 'Relu', domain: '', inputs: ['c'], outputs: ['r'], attrs: {} },
            { name: 'pool', opType: 'MaxPool', domain: '', inputs: ['r'], outputs: ['y'], attrs: poolAttrs },
          ],
        },
      };
      const run = async (backend: Backend): Promise<{ outputs: Record<string, Tensor>; nodes: string[] }> => {
        const session = await Session.load(model, { backend, device: backend === 'webgpu' ? (await testDevice()).device : undefined });
        try {
          return { outputs: await session.run({ x }), nodes: session.report().nodes.map((n) => n.name) };
        } finally {
          session.dispose();
        }
      };
      const [gpu, cpu, ref] = await Promise.all((['webgpu', 'cpu', 'reference'] as const).map(run));
      expect(gpu!.nodes.includes('conv+relu+pool'), `case ${i}`).toBe(fused);
      for (const name of Object.keys(ref!.outputs)) {
        expect(gpu!.outputs[name]!.data, `case ${i} ${name}`).toEqual(ref!.outputs[name]!.data);
        expect(cpu!.outputs[name]!.data, `case ${i} ${name}`).toEqual(ref!.outputs[name]!.data);
      }
    }
  });

  it('a QConv that only a static-scale QConv reads hands it int8 words on WebGPU, equal to the float hand-off elsewhere', async () => {
    interface Layer {
      readonly cout: number;
      readonly kernel: [number, number];
      readonly attrs: Attrs;
      /** 0: dynamic. */
      readonly actScale: number;
      readonly pool?: boolean;
    }
    const relu = { _activation: 'Relu', _alpha: 0, _beta: 0 };
    // [x dims, layers, graph outputs besides the last, which layers store words, which read them]
    const cases: [number[], Layer[], string[], boolean[], boolean[]][] = [
      // The CNN's shape: a pooled producer, 8 channels (2 words a tap).
      [[1, 1, 12, 12], [
        { cout: 8, kernel: [3, 3], attrs: { pads: [1, 1, 1, 1], ...relu }, actScale: 0.05, pool: true },
        { cout: 12, kernel: [3, 3], attrs: { pads: [1, 1, 1, 1], ...relu }, actScale: 0.05 },
      ], [], [true, false], [false, true]],
      // Unpooled, 16 channels (a run of 4 words), batch 2, stride and asymmetric pads, then a third
      // layer: the middle one reads and stores words.
      [[2, 4, 9, 7], [
        { cout: 16, kernel: [3, 3], attrs: { pads: [1, 1, 1, 1] }, actScale: 0 },
        { cout: 8, kernel: [3, 2], attrs: { strides: [2, 1], pads: [0, 1, 2, 0], ...relu }, actScale: 0.04 },
        { cout: 5, kernel: [1, 1], attrs: {}, actScale: 0.03 },
      ], [], [true, true, false], [false, true, true]],
      // Groups of 4 channels (1 word a tap), dilation.
      [[1, 4, 10, 10], [
        { cout: 8, kernel: [3, 3], attrs: { group: 2, pads: [2, 2, 2, 2], dilations: [2, 2] }, actScale: 0.05 },
        { cout: 8, kernel: [3, 3], attrs: { group: 2, dilations: [2, 1] }, actScale: 0.05 },
      ], [], [true, false], [false, true]],
      // 32 channels (8 words a tap, runs of 4) with stride and uneven pads, then 2 groups of 16
      // into a layer whose odd output keeps its MaxPool.
      [[1, 3, 7, 6], [
        { cout: 32, kernel: [3, 3], attrs: { pads: [1, 1, 1, 1], ...relu }, actScale: 0.05 },
        { cout: 32, kernel: [3, 3], attrs: { strides: [2, 1], pads: [1, 0, 0, 1] }, actScale: 0.04 },
        { cout: 8, kernel: [3, 3], attrs: { group: 2, pads: [1, 1, 1, 1], ...relu }, actScale: 0.05, pool: true },
      ], [], [true, true, false], [false, true, true]],
      // Not packed: a dynamic reader, 6 channels, a producer whose output is also a graph output.
      [[1, 3, 8, 8], [
        { cout: 8, kernel: [3, 3], attrs: {}, actScale: 0.05 },
        { cout: 6, kernel: [3, 3], attrs: {}, actScale: 0 },
        { cout: 8, kernel: [1, 1], attrs: {}, actScale: 0.05 },
        { cout: 4, kernel: [1, 1], attrs: {}, actScale: 0.05 },
      ], ['y2'], [false, false, false, false], [false, false, false, false]],
    ];
    for (const [i, [dims, layers, exposed, stores, reads]] of cases.entries()) {
      const initializers = new Map<string, Tensor>();
      const nodes: Model['graph']['nodes'][number][] = [];
      let prev = 'x';
      let cin = dims[1]!;
      layers.forEach((l, j) => {
        const group = (l.attrs.group as number | undefined) ?? 1;
        const k = (cin / group) * l.kernel[0] * l.kernel[1];
        const [w, wscale, bias] = quantizedWeights(l.cout, k, 50 + 10 * i + j, true);
        initializers.set(`w${j}`, w).set(`s${j}`, wscale).set(`b${j}`, bias!);
        const attrs = { ...l.attrs, kernel_shape: l.kernel, k, ...(l.actScale ? { act_scale: l.actScale } : {}) };
        const out = `y${j}`;
        const convOut = l.pool ? `c${j}` : out;
        nodes.push({ name: `conv${j}`, opType: 'QConv', domain: TESSERA_DOMAIN, inputs: [prev, `w${j}`, `s${j}`, `b${j}`], outputs: [convOut], attrs });
        if (l.pool) nodes.push({ name: `pool${j}`, opType: 'MaxPool', domain: '', inputs: [convOut], outputs: [out], attrs: { kernel_shape: [2, 2], strides: [2, 2] } });
        prev = out;
        cin = l.cout;
      });
      const model: Model = {
        opset: 17,
        producer: 'test',
        graph: {
          inputs: [{ name: 'x', dtype: 'float32', dims }],
          outputs: [prev, ...exposed].map((name) => ({ name, dtype: 'float32' as const, dims: [] })),
          initializers,
          nodes,
        },
      };
      const planned = packQConvChains(fusePooledQConvs(planModel(model))).nodes.filter((p) => p.node.opType === 'QConv');
      expect(planned.map((p) => p.node.attrs[PACK_OUT_ATTR] !== undefined), `case ${i} stores`).toEqual(stores);
      expect(planned.map((p) => p.node.attrs[PACKED_IN_ATTR] === 1), `case ${i} reads`).toEqual(reads);
      const x = randomTensor('float32', dims, 60 + i, [-2, 2]);
      const run = async (backend: Backend): Promise<Record<string, Tensor>> => {
        const session = await Session.load(model, { backend, device: backend === 'webgpu' ? (await testDevice()).device : undefined });
        try {
          return await session.run({ x });
        } finally {
          session.dispose();
        }
      };
      const [gpu, cpu, ref] = await Promise.all((['webgpu', 'cpu', 'reference'] as const).map(run));
      for (const name of Object.keys(ref!)) {
        expect(gpu![name]!.data, `case ${i} ${name}`).toEqual(ref![name]!.data);
        expect(cpu![name]!.data, `case ${i} ${name}`).toEqual(ref![name]!.data);
      }
    }
  });

  it('refuses bad operands with typed errors', async () => {
    const load = (inputs: (Tensor | undefined)[], attrs: Attrs): Promise<Session> =>
      Session.load(oneNodeModel('QConv', inputs, attrs, Q_OPTIONS), { backend: 'cpu' });
    const x = randomTensor('float32', [1, 4, 6, 6], 1);
    const [w, ws] = quantizedWeights(3, 36, 2, false);
    const attrs = { kernel_shape: [3, 3], k: 36 };
    await expect(load([x, w, ws, undefined], { ...attrs, k: 35 })).rejects.toThrow(ShapeError);
    await expect(load([x, w, ws, undefined], { ...attrs, group: 3 })).rejects.toThrow(ShapeError);
    await expect(load([x, w, ws, undefined], { ...attrs, kernel_shape: [2, 2] })).rejects.toThrow(ShapeError);
    await expect(load([randomTensor('float32', [4, 6, 6], 1), w, ws, undefined], attrs)).rejects.toThrow(ShapeError);
    await expect(load([x, { dtype: 'int32', dims: [3, 8], data: new Int32Array(24) }, ws, undefined], attrs)).rejects.toThrow(ShapeError);
    await expect(load([x, w, ws, undefined], { k: 36 })).rejects.toThrow(ModelFormatError);
    // The reference's own loads work on the same operands.
    const ok = await load([x, w, ws, undefined], attrs);
    ok.dispose();
  });
});
