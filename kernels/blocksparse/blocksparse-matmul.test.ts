import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ModelFormatError, ShapeError } from '../../core/errors.js';
import type { Attrs, Model } from '../../core/ir/graph.js';
import { planModel } from '../../core/runtime/plan.js';
import { Session } from '../../core/session.js';
import type { Tensor } from '../../core/tensor.js';
import { runEverywhere } from '../quant/test-util.js';
import { TESSERA_DOMAIN } from '../registry.js';
import { expectClose, expectModelOnBackends, oneNodeModel, randomTensor, runOp } from '../testing/harness.js';
import { BLOCK_COLS, BLOCK_ROWS, packBlockSparse } from './format.js';

const OPTIONS = { domain: TESSERA_DOMAIN, constInputs: [1, 2, 3, 4] } as const;
/** The kernels sum in another order than the reference: float rounding only. */
const TOL = { atol: 1e-4, rtol: 1e-4 };

interface Case {
  readonly batch: number[];
  readonly n: number;
  readonly k: number;
  /** Fraction of 4 × 16 blocks zeroed (1: the all-zero matrix). */
  readonly zeroBlocks: number;
  readonly bias: boolean;
  readonly act?: string;
}

/** A float [N, K] matrix with whole 4 × 16 blocks zeroed at random, and row group 0 all zero when asked. */
function blockSparseMatrix(n: number, k: number, zeroBlocks: number, seed: number, emptyFirstGroup = false): Float32Array {
  const w = Float32Array.from(randomTensor('float32', [n, k], seed, [-1, 1]).data);
  const coin = randomTensor('float32', [Math.ceil(n / BLOCK_ROWS), Math.ceil(k / BLOCK_COLS)], seed + 1, [0, 1]).data;
  const kb = Math.ceil(k / BLOCK_COLS);
  for (let r = 0; r < n; r++) {
    for (let p = 0; p < k; p++) {
      const g = Math.floor(r / BLOCK_ROWS);
      if (coin[g * kb + Math.floor(p / BLOCK_COLS)]! < zeroBlocks || (emptyFirstGroup && g === 0)) w[r * k + p] = 0;
    }
  }
  return w;
}

/** BlockSparseMatMul's inputs 1–4 for a row-major [N, K] matrix. */
function weightInputs(w: Float32Array, n: number, k: number, bias: Tensor | undefined): (Tensor | undefined)[] {
  const { values, blockCols, rowPtr } = packBlockSparse(w, n, k);
  return [
    { dtype: 'float32', dims: [blockCols.length, BLOCK_ROWS, BLOCK_COLS], data: values },
    { dtype: 'int32', dims: [blockCols.length], data: blockCols },
    { dtype: 'int32', dims: [rowPtr.length], data: rowPtr },
    bias,
  ];
}

function inputsOf(c: Case, seed: number, emptyFirstGroup = false): (Tensor | undefined)[] {
  const w = blockSparseMatrix(c.n, c.k, c.zeroBlocks, seed + 7, emptyFirstGroup);
  return [randomTensor('float32', [...c.batch, c.k], seed, [-1.5, 1.5]), ...weightInputs(w, c.n, c.k, c.bias ? randomTensor('float32', [c.n], seed + 1) : undefined)];
}

const attrsOf = (c: Case): Attrs => ({ k: c.k, n: c.n, ...(c.act ? { _activation: c.act, _alpha: 0, _beta: 0 } : {}) });

async function expectAgree(inputs: readonly (Tensor | undefined)[], attrs: Attrs): Promise<Tensor> {
  const [gpu, cpu, ref] = await runEverywhere('BlockSparseMatMul', inputs, attrs, OPTIONS);
  expectClose(gpu!, ref!, TOL, 'webgpu');
  expectClose(cpu!, ref!, TOL, 'cpu');
  return ref!;
}

describe('packBlockSparse', () => {
  it('keeps exactly the 4 × 16 blocks with a nonzero, K-blocks ascending, padding zero', () => {
    const [n, k] = [6, 35];
    const w = new Float32Array(n * k);
    w[0 * k + 34] = 1; // group 0, K-block 2 (the short last one)
    w[5 * k + 3] = 2; // group 1 (rows 4–5 of 8), K-block 0
    w[4 * k + 20] = 3; // group 1, K-block 1
    const { values, blockCols, rowPtr } = packBlockSparse(w, n, k);
    expect([...rowPtr]).toEqual([0, 1, 3]);
    expect([...blockCols]).toEqual([2, 0, 1]);
    expect(values.length).toBe(3 * 64);
    expect(values[2]).toBe(1); // column 34 = 2 · 16 + 2, row 0
    expect(values[64 + 1 * 16 + 3]).toBe(2);
    expect(values[128 + 0 * 16 + 4]).toBe(3);
    expect(values.reduce((s, v) => s + v, 0)).toBe(6);
  });
});

describe('BlockSparseMatMul', () => {
  it('matches the reference on WebGPU and the CPU: odd N, K not a multiple of 16, M = 1 and M > 1, bias, fused activations, any density', async () => {
    await fc.assert(fc.asyncProperty(fc.record({
      batch: fc.oneof(fc.constant<number[]>([1]), fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 0, maxLength: 2 })),
      n: fc.integer({ min: 1, max: 37 }),
      k: fc.integer({ min: 1, max: 90 }),
      zeroBlocks: fc.constantFrom(0, 0.5, 0.8, 1),
      bias: fc.boolean(),
      act: fc.constantFrom(undefined, 'Relu', 'Sigmoid', 'Gelu'),
    }), fc.nat(), async (c, seed) => {
      await expectAgree(inputsOf(c, seed), attrsOf(c));
    }), { numRuns: 30 });
  });

  it('skips all-zero row groups and the all-zero matrix (bias and activation only)', async () => {
    const c: Case = { batch: [3], n: 13, k: 50, zeroBlocks: 0.3, bias: true, act: 'Relu' };
    const inputs = inputsOf(c, 5, true);
    expect(inputs[3]!.data[1]).toBe(0); // row group 0 stores no block
    const ref = await expectAgree(inputs, attrsOf(c));
    const bias = inputs[4]!.data;
    for (let r = 0; r < 3; r++) for (let ch = 0; ch < 4; ch++) expect(ref.data[r * 13 + ch]).toBeCloseTo(Math.max(0, bias[ch]!), 6);
    const zero = inputsOf({ ...c, zeroBlocks: 1 }, 6);
    expect(zero[1]!.dims).toEqual([0, BLOCK_ROWS, BLOCK_COLS]);
    const out = await expectAgree(zero, attrsOf(c));
    expect([...out.data]).toEqual([0, 1, 2].flatMap(() => [...zero[4]!.data].map((b) => Math.max(0, b))));
  });

  it('covers long K and many rows: M = 67, K = 1000, N = 45 at 75% zero blocks', async () => {
    const c: Case = { batch: [67], n: 45, k: 1000, zeroBlocks: 0.75, bias: true };
    await expectAgree(inputsOf(c, 9), attrsOf(c));
  });

  it('fuses a following Relu into its epilogue', async () => {
    const c: Case = { batch: [2], n: 10, k: 40, zeroBlocks: 0.5, bias: true };
    const [a, ...weights] = inputsOf(c, 4);
    const model = oneNodeModel('BlockSparseMatMul', [a, ...weights], attrsOf(c), OPTIONS);
    const { graph } = model;
    const relu = { name: 'relu', opType: 'Relu', domain: '', inputs: ['h'], outputs: ['y0'], attrs: {} };
    const two: Model = { ...model, graph: { ...graph, nodes: [{ ...graph.nodes[0]!, outputs: ['h'] }, relu] } };
    expect(planModel(two).nodes.map((p) => [p.node.opType, p.node.attrs._activation])).toEqual([['BlockSparseMatMul', 'Relu']]);
    const [ref] = await runOp('reference', 'BlockSparseMatMul', [a, ...weights], { ...attrsOf(c), _activation: 'Relu', _alpha: 0, _beta: 0 }, OPTIONS);
    await expectModelOnBackends(two, { x0: a! }, 'y0', ref!, TOL);
  });

  it('refuses bad operands with typed errors', async () => {
    const load = (inputs: (Tensor | undefined)[], attrs: Attrs): Promise<Session> =>
      Session.load(oneNodeModel('BlockSparseMatMul', inputs, attrs, OPTIONS), { backend: 'cpu' });
    const c: Case = { batch: [2], n: 6, k: 40, zeroBlocks: 0, bias: false };
    const attrs = attrsOf(c);
    const [a, values, cols, ptr] = inputsOf(c, 2);
    // 2 row groups × 3 K-blocks, all stored.
    expect([...ptr!.data]).toEqual([0, 3, 6]);
    const int32 = (data: number[]): Tensor => ({ dtype: 'int32', dims: [data.length], data: Int32Array.from(data) });
    await expect(load([a, values, cols, int32([0, 4, 3]), undefined], attrs)).rejects.toThrow(ModelFormatError);
    await expect(load([a, values, cols, int32([0, 3, 5]), undefined], attrs)).rejects.toThrow(ModelFormatError);
    await expect(load([a, values, int32([0, 1, 2, 0, 1, 3]), ptr, undefined], attrs)).rejects.toThrow(ModelFormatError);
    await expect(load([a, values, int32([0, 1, 2, 0, 1, -1]), ptr, undefined], attrs)).rejects.toThrow(ModelFormatError);
    // Rows 6–7 of the last group are padding and must hold zeros.
    const dirty = Float32Array.from(values!.data);
    dirty[3 * 64 + 7 * 16] = 1;
    await expect(load([a, { ...values!, data: dirty }, cols, ptr, undefined], attrs)).rejects.toThrow(ModelFormatError);
    await expect(load([a, { ...values!, dims: [6, 16, 4] }, cols, ptr, undefined], attrs)).rejects.toThrow(ShapeError);
    await expect(load([a, { ...values!, dims: [6 * 64] }, cols, ptr, undefined], attrs)).rejects.toThrow(ShapeError);
    await expect(load([a, values, int32([0, 1, 2]), ptr, undefined], attrs)).rejects.toThrow(ShapeError);
    await expect(load([a, values, cols, int32([0, 6]), undefined], attrs)).rejects.toThrow(ShapeError);
    await expect(load([a, values, cols, ptr, randomTensor('float32', [5], 1)], attrs)).rejects.toThrow(ShapeError);
    await expect(load([a, values, cols, ptr, undefined], { ...attrs, k: 41 })).rejects.toThrow(ShapeError);
    await expect(load([a, values, cols, ptr, undefined], { k: 40 })).rejects.toThrow(ModelFormatError);
  });
});
