import { describe, expect, it } from 'vitest';
import { packModel } from '../bundle/write.js';
import type { Model } from '../ir/graph.js';
import { loadModel } from '../load-model.js';
import { Session, type Backend } from '../session.js';
import type { Tensor } from '../tensor.js';
import { KERNEL_BACKENDS, randomTensor, testDevice } from '../../kernels/testing/harness.js';
import { calibrate } from './calibrate.js';
import { findWeightLayers } from './layers.js';
import { quantizeModel, type QuantizeOptions } from './quantize.js';
import { convModel, denseModel } from './test-models.js';

async function run(model: Model, backend: Backend, x: Tensor): Promise<Float32Array> {
  const device = backend === 'webgpu' ? (await testDevice()).device : undefined;
  const s = await Session.load(model, { backend, device, inputDims: { x: x.dims } });
  try {
    return (await s.run({ x }))[s.outputs[0]!.name]!.data as Float32Array;
  } finally {
    s.dispose();
  }
}

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  a.forEach((v, i) => {
    dot += v * b[i]!;
    na += v * v;
    nb += b[i]! ** 2;
  });
  return dot / Math.sqrt(na * nb);
}

const maxDiff = (a: Float32Array, b: Float32Array): number => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

/** Each recipe on each model: the op types it must produce, and how close to float it must stay. */
const CASES: { name: string; model: () => Model; options: (m: Model, samples: Tensor[]) => Promise<QuantizeOptions>; ops: string[]; cosine: number }[] = [
  { name: 'int8, dynamic', model: () => denseModel(4, 64, 48), options: async () => ({ weights: 'int8', activations: { kind: 'dynamic' } }), ops: ['QMatMul', 'Relu', 'QMatMul'], cosine: 0.999 },
  {
    name: 'int8, calibrated', model: () => denseModel(4, 64, 48), ops: ['QMatMul', 'Relu', 'QMatMul'], cosine: 0.999,
    options: async (m, samples) => ({ weights: 'int8', activations: { kind: 'static', ranges: await calibrate(m, ['x', 'r'], samples.map((x) => ({ x }))) } }),
  },
  { name: 'int4, float activations', model: () => denseModel(4, 64, 48), options: async () => ({ weights: 'int4', activations: { kind: 'float' } }), ops: ['Q4MatMul', 'Relu', 'Q4MatMul'], cosine: 0.99 },
  {
    name: 'int4, calibrated int8 activations', model: () => denseModel(4, 64, 48), ops: ['Q4MatMul', 'Relu', 'Q4MatMul'], cosine: 0.99,
    options: async (m, samples) => ({ weights: 'int4', activations: { kind: 'static', ranges: await calibrate(m, ['x', 'r'], samples.map((x) => ({ x }))) } }),
  },
  { name: '2:4 + int8', model: () => denseModel(4, 64, 48), options: async () => ({ weights: 'int8', sparsity: '2:4', activations: { kind: 'dynamic' } }), ops: ['SparseQMatMul', 'Relu', 'SparseQMatMul'], cosine: 0.8 },
  { name: 'int8 convs and dense', model: convModel, options: async () => ({ weights: 'int8', activations: { kind: 'dynamic' } }), ops: ['QConv', 'Relu', 'QConv', 'Flatten', 'QMatMul'], cosine: 0.999 },
  // The grouped conv stays on int8 QConv (dynamic, as QConv has no float activations).
  { name: 'int4 convs and dense, float activations', model: convModel, options: async () => ({ weights: 'int4', activations: { kind: 'float' } }), ops: ['Q4Conv', 'Relu', 'QConv', 'Flatten', 'Q4MatMul'], cosine: 0.99 },
  {
    name: 'int4 convs and dense, calibrated int8 activations', model: convModel, ops: ['Q4Conv', 'Relu', 'QConv', 'Flatten', 'Q4MatMul'], cosine: 0.99,
    options: async (m, samples) => ({ weights: 'int4', activations: { kind: 'static', ranges: await calibrate(m, ['x', 'r1', 'f'], samples.map((x) => ({ x }))) } }),
  },
  { name: 'int4 convs and dense, dynamic int8 activations', model: convModel, options: async () => ({ weights: 'int4', activations: { kind: 'dynamic' } }), ops: ['Q4Conv', 'Relu', 'QConv', 'Flatten', 'Q4MatMul'], cosine: 0.99 },
];

describe('quantizeModel', () => {
  for (const c of CASES) {
    it(`${c.name}: rewrites every weight layer, drops the float weights, and stays close to float on every backend`, async () => {
      const m = c.model();
      const dims = m.graph.inputs[0]!.dims.map((d) => (typeof d === 'number' ? d : 4));
      const samples = [0, 1, 2].map((s) => randomTensor('float32', dims, 40 + s));
      const { model: q, recipe } = quantizeModel(m, await c.options(m, samples));
      expect(q.graph.nodes.map((n) => n.opType)).toEqual(c.ops);
      expect(q.graph.nodes.filter((n) => n.opType.startsWith('Q') || n.opType.startsWith('Sparse')).every((n) => n.domain === 'com.tessera')).toBe(true);
      for (const name of ['w1', 'b1', 'w2', 'c2', 'k1', 'kb1', 'k2', 'wd']) expect(q.graph.initializers.has(name)).toBe(false);
      expect(recipe.layers).toHaveLength(findWeightLayers(m.graph).length);
      const x = samples[0]!;
      const float = await run(m, 'reference', x);
      const ref = await run(q, 'reference', x);
      expect(cosine(ref, float)).toBeGreaterThan(c.cosine);
      for (const backend of KERNEL_BACKENDS) {
        // The integer parts agree exactly; only the float epilogues round differently.
        expect(maxDiff(await run(q, backend, x), ref), backend).toBeLessThan(1e-4 * Math.max(1, ...ref.map(Math.abs)));
      }
    });
  }

  it('round-trips through a bundle, layouts named by the ops that read them, same outputs', async () => {
    const m = denseModel(4, 64, 48);
    const { model: q } = quantizeModel(m, { weights: 'int4', activations: { kind: 'float' } });
    const packed = await packModel(q, { model: { id: 'dense', name: 'dense', version: 1 } });
    const layouts = packed.manifest.tensors.map((t) => t.layout);
    expect(layouts.filter((l) => l === 'int4-block32')).toHaveLength(2);
    // fp16 scales, two to an int32; the biases are plain floats.
    expect(layouts.filter((l) => l === 'fp16-pairs')).toHaveLength(2);
    expect(layouts.filter((l) => l === 'dense')).toHaveLength(2);
    const x = randomTensor('float32', [4, 64], 50);
    expect(await run(await loadModel(packed.bytes), 'cpu', x)).toEqual(await run(q, 'cpu', x));
  });

  it('refuses what it cannot do, by name', () => {
    const m = denseModel();
    expect(() => quantizeModel(m, { weights: 'int8', activations: { kind: 'dynamic' }, exclude: ['nope'] })).toThrow(/nope/);
    expect(() => quantizeModel(m, { weights: 'int4', sparsity: '2:4', activations: { kind: 'float' } })).toThrow(RangeError);
    expect(() => quantizeModel(m, { weights: 'int8', activations: { kind: 'float' } })).toThrow(RangeError);
    expect(() => quantizeModel(m, { weights: 'int8', activations: { kind: 'static', ranges: new Map() } })).toThrow(/no calibrated range for "x"/);
    const kept = quantizeModel(m, { weights: 'int8', activations: { kind: 'dynamic' }, exclude: ['Gemm:y'] });
    expect(kept.model.graph.nodes.map((n) => n.opType)).toEqual(['QMatMul', 'Relu', 'Gemm']);
    const keptConv = quantizeModel(convModel(), { weights: 'int4', activations: { kind: 'float' }, exclude: ['Conv:c1'] });
    expect(keptConv.model.graph.nodes.map((n) => n.opType)).toEqual(['Conv', 'Relu', 'QConv', 'Flatten', 'Q4MatMul']);
  });

  it('int4 leaves a conv with under 16 taps per filter on int8 QConv, where it is smaller', () => {
    const m = convModel();
    const narrow = { ...m, graph: { ...m.graph, initializers: new Map([...m.graph.initializers, ['k1', randomTensor('float32', [4, 1, 3, 3], 11)]]) } };
    const { model: q, recipe } = quantizeModel(narrow, { weights: 'int4', activations: { kind: 'float' } });
    expect(q.graph.nodes.map((n) => n.opType)).toEqual(['QConv', 'Relu', 'QConv', 'Flatten', 'Q4MatMul']);
    expect(recipe.layers.map((l) => [l.opType, l.k])).toEqual([['QConv', 9], ['QConv', 18], ['Q4MatMul', 96]]);
  });
});
