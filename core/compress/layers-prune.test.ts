import { describe, expect, it } from 'vitest';
import type { Model } from '../ir/graph.js';
import { runReference } from '../runtime/reference-executor.js';
import { planModel } from '../runtime/plan.js';
import type { Tensor } from '../tensor.js';
import { randomTensor } from '../../kernels/testing/harness.js';
import { convModel, denseModel, node } from './test-models.js';
import { calibrate } from './calibrate.js';
import { findWeightLayers } from './layers.js';
import { pruneModel, sparsityMask } from './prune.js';

/** Recomputes a dense layer as act(x · Wᵀ · alpha + bias) from what findWeightLayers extracted. */
function applyLayer(x: Float32Array, rows: number, w: Float32Array, n: number, k: number, alpha: number, bias?: Float32Array): Float32Array {
  return Float32Array.from({ length: rows * n }, (_, i) => {
    const r = Math.floor(i / n);
    const j = i % n;
    let s = 0;
    for (let p = 0; p < k; p++) s += x[r * k + p]! * w[j * k + p]!;
    return alpha * s + (bias?.[j] ?? 0);
  });
}

describe('weight layers', () => {
  it('sees MatMul+Add and Gemm(transB, alpha, beta) as [N, K] weights with a folded bias', () => {
    const m = denseModel();
    const layers = findWeightLayers(m.graph);
    expect(layers.map((l) => [l.node.opType, l.n, l.k, l.stored, l.output, l.biasAdd?.opType])).toEqual([
      ['MatMul', 5, 6, 'kn', 'hb', 'Add'],
      ['Gemm', 3, 5, 'nk', 'y', undefined],
    ]);
    const x = randomTensor('float32', [2, 6], 9);
    const plan = planModel({ ...m, graph: { ...m.graph, outputs: [...m.graph.outputs, { name: 'hb', dtype: 'float32', dims: [] }, { name: 'r', dtype: 'float32', dims: [] }] } });
    const out = runReference(plan, new Map([['x', x]]));
    const [l1, l2] = layers;
    const hb = applyLayer(x.data as Float32Array, 2, l1!.weights, 5, 6, l1!.alpha, l1!.bias);
    const y = applyLayer(out.get('r')!.data as Float32Array, 2, l2!.weights, 3, 5, l2!.alpha, l2!.bias);
    [...hb].forEach((v, i) => expect(v).toBeCloseTo(out.get('hb')!.data[i]!, 5));
    [...y].forEach((v, i) => expect(v).toBeCloseTo(out.get('y')!.data[i]!, 5));
  });

  it('leaves alone weights that another node also reads, and a Gemm whose C is a full matrix', () => {
    const m = denseModel();
    const shared: Model = { ...m, graph: { ...m.graph, nodes: [...m.graph.nodes, node('Neg', ['w1'], ['nw'])] } };
    expect(findWeightLayers(shared.graph).map((l) => l.node.opType)).toEqual(['Gemm']);
    const full = new Map(m.graph.initializers).set('c2', randomTensor('float32', [2, 3], 5));
    expect(findWeightLayers({ ...m.graph, initializers: full }).map((l) => l.node.opType)).toEqual(['MatMul']);
  });
});

describe('pruning', () => {
  it('2:4 keeps exactly the two largest magnitudes of every group of four, and the tail group\'s two largest', () => {
    const w = randomTensor('float32', [7, 11], 6).data as Float32Array;
    const keep = sparsityMask(w, 7, 11, '2:4');
    for (let r = 0; r < 7; r++) {
      for (let g = 0; g < 11; g += 4) {
        const idx = [0, 1, 2, 3].map((j) => g + j).filter((p) => p < 11).map((p) => r * 11 + p);
        const kept = idx.filter((i) => keep[i]);
        expect(kept).toHaveLength(2);
        const minKept = Math.min(...kept.map((i) => Math.abs(w[i]!)));
        for (const i of idx) if (!keep[i]) expect(Math.abs(w[i]!)).toBeLessThanOrEqual(minKept);
      }
    }
  });

  it('block pruning zeroes whole blocks of lowest norm, unstructured pruning the smallest weights', () => {
    const w = randomTensor('float32', [4, 64], 7).data as Float32Array;
    const blocks = sparsityMask(w, 4, 64, { sparsity: 0.5, block: 16 });
    for (let b = 0; b < 16; b++) {
      const slice = blocks.subarray(b * 16, b * 16 + 16);
      expect(new Set(slice).size).toBe(1);
    }
    expect(blocks.reduce((s, v) => s + v, 0)).toBe(128);
    const fine = sparsityMask(w, 4, 64, { sparsity: 0.75 });
    const kept = [...w].filter((_, i) => fine[i]).map(Math.abs);
    const dropped = [...w].filter((_, i) => !fine[i]).map(Math.abs);
    expect(dropped).toHaveLength(192);
    expect(Math.max(...dropped)).toBeLessThanOrEqual(Math.min(...kept));
    expect(() => sparsityMask(w, 4, 64, { sparsity: 1 })).toThrow(RangeError);
  });

  it('writes the zeros into the model\'s own tensors, in their own layout', () => {
    const { model, report } = pruneModel(denseModel(), '2:4');
    // K = 6 and 5: one full group of 4 loses 2 per row, the short tail group keeps what it has.
    expect(report.layers.map((l) => l.zeros)).toEqual([10, 6]);
    expect(report.sparsity).toBeCloseTo(16 / 45, 10);
    const pruned = findWeightLayers(model.graph);
    for (const l of pruned) {
      const keep = sparsityMask(l.weights, l.n, l.k, '2:4');
      // Re-pruning a pruned layer changes nothing: the zeros are where the mask says.
      l.weights.forEach((v, i) => expect(keep[i] || v === 0).toBeTruthy());
    }
  });

  it('leaves convolutions dense under 2:4 (the SparseQMatMul kernel is for matrix products), prunes them otherwise', () => {
    const m = convModel();
    const layers = findWeightLayers(m.graph);
    const of = (kind: string): string[] => layers.filter((l) => l.kind === kind).map((l) => l.node.name);
    expect(of('conv').length).toBeGreaterThan(0);
    expect(pruneModel(m, '2:4').report.layers.map((l) => l.node)).toEqual(of('dense'));
    expect(pruneModel(m, { sparsity: 0.5 }).report.layers.map((l) => l.node)).toEqual(layers.map((l) => l.node.name));
  });
});

describe('calibration', () => {
  it('finds each value\'s |x| range by running the float model (min-max), and a percentile at most that', async () => {
    const m = denseModel();
    const samples = [0, 1, 2].map((s) => ({ x: randomTensor('float32', [2, 6], 20 + s, [-3, 3]) }));
    const ranges = await calibrate(m, ['x', 'r'], samples);
    const plan = planModel({ ...m, graph: { ...m.graph, outputs: [{ name: 'r', dtype: 'float32', dims: [] }] } });
    let rMax = 0;
    let xMax = 0;
    for (const s of samples) {
      xMax = Math.max(xMax, ...[...s.x.data].map(Math.abs));
      rMax = Math.max(rMax, ...[...runReference(plan, new Map([['x', s.x]])).get('r')!.data].map(Math.abs));
    }
    expect(ranges.get('x')).toBe(xMax);
    expect(ranges.get('r')).toBeCloseTo(rMax, 5);
    const p = await calibrate(m, ['r'], samples, { method: { kind: 'percentile', percentile: 90 } });
    expect(p.get('r')!).toBeLessThanOrEqual(ranges.get('r')!);
    expect(p.get('r')!).toBeGreaterThan(0);
    // A cap far below the values seen thins the sample but keeps the exact maximum.
    const thin = await calibrate(m, ['x'], samples, { maxSamples: 4, method: { kind: 'percentile', percentile: 100 } });
    expect(thin.get('x')!).toBeLessThanOrEqual(xMax);
    expect((await calibrate(m, ['x'], samples, { maxSamples: 4 })).get('x')).toBe(xMax);
    await expect(calibrate(m, ['r'], [])).rejects.toThrow(RangeError);
  });
});

