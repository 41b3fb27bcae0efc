import { describe, expect, it } from 'vitest';
import { packModel } from '../bundle/write.js';
import type { Model } from '../ir/graph.js';
import { loadModel } from '../load-model.js';
import { Session, type Backend } from '../session.js';
import type { Tensor } from '../tensor.js';
import { KERNEL_BACKENDS, expectClose, randomTensor, testDevice } from '../../kernels/testing/harness.js';
import { compress } from './pipeline.js';
import { pruneModel, sparsityMask } from './prune.js';
import { convModel, denseModel } from './test-models.js';

async function run(model: Model, backend: Backend, x: Tensor): Promise<Tensor> {
  const device = backend === 'webgpu' ? (await testDevice()).device : undefined;
  const s = await Session.load(model, { backend, device, inputDims: { x: x.dims } });
  try {
    return (await s.run({ x }))[s.outputs[0]!.name]!;
  } finally {
    s.dispose();
  }
}

describe('block pruning onto BlockSparseMatMul', () => {
  it('sparsityMask zeroes whole [rows, cols] blocks of lowest norm, tail blocks cut at N and K', () => {
    const [n, k] = [10, 40];
    const w = Float32Array.from(randomTensor('float32', [n, k], 3).data);
    const keep = sparsityMask(w, n, k, { sparsity: 0.5, block: [4, 16] });
    // 3 × 3 blocks (the last row and column of blocks partial); round(4.5) = 5 are zeroed.
    const blockOf = (r: number, c: number): number => Math.floor(r / 4) * 3 + Math.floor(c / 16);
    const kept = new Map<number, Set<number>>();
    for (let r = 0; r < n; r++) for (let c = 0; c < k; c++) kept.set(blockOf(r, c), (kept.get(blockOf(r, c)) ?? new Set()).add(keep[r * k + c]!));
    expect([...kept.values()].every((s) => s.size === 1)).toBe(true);
    expect([...kept.values()].filter((s) => s.has(0))).toHaveLength(5);
    const norm = (b: number): number => {
      let s = 0;
      for (let r = 0; r < n; r++) for (let c = 0; c < k; c++) if (blockOf(r, c) === b) s += w[r * k + c]! ** 2;
      return s;
    };
    const zeroed = [...kept].filter(([, s]) => s.has(0)).map(([b]) => norm(b));
    const survivors = [...kept].filter(([, s]) => s.has(1)).map(([b]) => norm(b));
    expect(Math.max(...zeroed)).toBeLessThanOrEqual(Math.min(...survivors));
    // 1-D blocks are [1, b]: the same mask.
    expect(sparsityMask(w, n, k, { sparsity: 0.5, block: 8 })).toEqual(sparsityMask(w, n, k, { sparsity: 0.5, block: [1, 8] }));
    expect(() => sparsityMask(w, n, k, { sparsity: 0.5, block: [0, 16] })).toThrow(RangeError);
  });

  it('compress with float weights and 4 × 16 blocks puts MatMul and Gemm on BlockSparseMatMul, computing the pruned model on every backend, through a bundle', async () => {
    const m = denseModel(3, 64, 48);
    const sparsity = { sparsity: 0.75, block: [4, 16] as const };
    const { model, report, bundle } = await compress({ source: m, sourceBytes: 1, recipe: { weights: 'float', sparsity }, name: 'bsr' });
    expect(model.graph.nodes.map((n) => [n.opType, n.domain])).toEqual([['BlockSparseMatMul', 'com.tessera'], ['Relu', ''], ['BlockSparseMatMul', 'com.tessera']]);
    expect(report.layers.map((l) => [l.node, l.opType, l.n, l.k])).toEqual([['MatMul:h', 'BlockSparseMatMul', 48, 64], ['Gemm:y', 'BlockSparseMatMul', 3, 48]]);
    for (const name of ['w1', 'b1', 'w2', 'c2']) expect(model.graph.initializers.has(name)).toBe(false);
    // 12 × 4 blocks in the first layer, a quarter kept.
    expect(model.graph.initializers.get('MatMul:h.bsr4x16.values')!.dims).toEqual([12, 4, 16]);
    const pruned = pruneModel(m, sparsity).model;
    const x = randomTensor('float32', [3, 64], 8);
    const ref = await run(pruned, 'reference', x);
    const loaded = await loadModel(bundle);
    for (const backend of KERNEL_BACKENDS) {
      expectClose(await run(model, backend, x), ref, { atol: 1e-4, rtol: 1e-4 }, backend);
      expectClose(await run(loaded, backend, x), ref, { atol: 1e-4, rtol: 1e-4 }, `${backend} (bundle)`);
    }
    const packed = await packModel(model, { model: { id: 'bsr', name: 'bsr', version: 1 } });
    expect(packed.manifest.tensors.find((t) => t.name === 'MatMul:h.bsr4x16.values')?.layout).toBe('bsr4x16-f32');
  });

  it('convolutions stay dense, as do excluded layers and blocks that are not 4 × 16 multiples', async () => {
    const conv = await compress({ source: convModel(), sourceBytes: 1, recipe: { weights: 'float', sparsity: { sparsity: 0.5, block: [4, 32] } }, name: 'c' });
    expect(conv.model.graph.nodes.map((n) => n.opType)).toEqual(['Conv', 'Relu', 'Conv', 'Flatten', 'BlockSparseMatMul']);
    const excluded = await compress({ source: denseModel(2, 64, 48), sourceBytes: 1, recipe: { weights: 'float', sparsity: { sparsity: 0.5, block: [4, 16] }, exclude: ['Gemm:y'] }, name: 'e' });
    expect(excluded.model.graph.nodes.map((n) => n.opType)).toEqual(['BlockSparseMatMul', 'Relu', 'Gemm']);
    const oneD = await compress({ source: denseModel(2, 64, 48), sourceBytes: 1, recipe: { weights: 'float', sparsity: { sparsity: 0.5, block: 32 } }, name: 'd' });
    expect(oneD.model.graph.nodes.map((n) => n.opType)).toEqual(['MatMul', 'Add', 'Relu', 'Gemm']);
  });
});
