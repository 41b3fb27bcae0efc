/**
 * Timing of BlockSparseMatMul against fp32 Gemm (not a test): one dense layer K = N = 1024 at
 * M = 1 (and M = 64 unless `m1`), weights pruned in 4 × 16 blocks to 0%, 50%, 75% and 90% zero
 * blocks, on the CPU kernels and on WebGPU. Variants take turns run by run in rounds and each
 * keeps its best round, so load from other processes skews them alike. Figures are kernel time
 * from the session's profile (wall time per node on the CPU, GPU timestamps on WebGPU; wall time
 * per run, submit and readback included, where the adapter has no timestamp queries). Run:
 *   npx esbuild kernels/blocksparse/perf.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
 *     --packages=external --outfile=dist/perf/blocksparse-perf.mjs && node dist/perf/blocksparse-perf.mjs [cpu|webgpu] [m1]
 */
import type { Model, Node } from '../../core/ir/graph.js';
import { sparsityMask } from '../../core/compress/prune.js';
import { Session } from '../../core/session.js';
import type { Tensor } from '../../core/tensor.js';
import { TESSERA_DOMAIN } from '../registry.js';
import { randomTensor, testDevice } from '../testing/harness.js';
import { BLOCK_COLS, BLOCK_ROWS, packBlockSparse } from './format.js';

const SPARSITIES = [0, 0.5, 0.75, 0.9];
const SIZE = 1024;

/** The layer as fp32 Gemm (dense, transB) or BlockSparseMatMul over the same pruned weights. */
function model(sparse: boolean, m: number, w: Float32Array, bias: Float32Array): Model {
  const f32 = (data: Float32Array, dims: number[]): Tensor => ({ dtype: 'float32', dims, data });
  const init = new Map<string, Tensor>([['b', f32(bias, [SIZE])]]);
  let node: Node;
  if (sparse) {
    const { values, blockCols, rowPtr } = packBlockSparse(w, SIZE, SIZE);
    init.set('v', f32(values, [blockCols.length, BLOCK_ROWS, BLOCK_COLS]));
    init.set('c', { dtype: 'int32', dims: [blockCols.length], data: blockCols });
    init.set('p', { dtype: 'int32', dims: [rowPtr.length], data: rowPtr });
    node = { name: 'y', opType: 'BlockSparseMatMul', domain: TESSERA_DOMAIN, inputs: ['x', 'v', 'c', 'p', 'b'], outputs: ['y'], attrs: { k: SIZE, n: SIZE } };
  } else {
    init.set('w', f32(w, [SIZE, SIZE]));
    node = { name: 'y', opType: 'Gemm', domain: '', inputs: ['x', 'w', 'b'], outputs: ['y'], attrs: { transB: 1 } };
  }
  return {
    opset: 17, producer: 'tessera-perf',
    graph: { nodes: [node], inputs: [{ name: 'x', dtype: 'float32', dims: [m, SIZE] }], outputs: [{ name: 'y', dtype: 'float32', dims: [] }], initializers: init },
  };
}

/** Best-round µs per run of fp32 and of each sparsity's BlockSparseMatMul. */
async function timeCase(backend: 'cpu' | 'webgpu', m: number): Promise<{ fp32: number; sparse: number[] }> {
  const acquired = backend === 'webgpu' ? await testDevice() : undefined;
  const timed = backend === 'cpu' || !!acquired?.features.has('timestamp-query');
  const w0 = randomTensor('float32', [SIZE, SIZE], 7, [-0.1, 0.1]).data as Float32Array;
  const bias = randomTensor('float32', [SIZE], 8, [-0.1, 0.1]).data as Float32Array;
  const models = [model(false, m, w0, bias), ...SPARSITIES.map((s) => {
    const keep = sparsityMask(w0, SIZE, SIZE, { sparsity: s, block: [BLOCK_ROWS, BLOCK_COLS] });
    return model(true, m, w0.map((v, i) => (keep[i] ? v : 0)), bias);
  })];
  const sessions = await Promise.all(models.map((md) => Session.load(md, { backend, device: acquired?.device, profile: timed })));
  const x = randomTensor('float32', [m, SIZE], 1);
  const best = sessions.map(() => Infinity);
  const runs = backend === 'cpu' ? 40 : 10;
  for (const s of sessions) for (let i = 0; i < 5; i++) await s.run({ x });
  for (let round = 0; round < 7; round++) {
    const total = sessions.map(() => 0);
    for (let i = 0; i < runs; i++) {
      for (const [j, s] of sessions.entries()) {
        const t0 = performance.now();
        await s.run({ x });
        total[j]! += timed ? s.report().nodes.reduce((a, n) => a + (n.ms ?? 0), 0) : performance.now() - t0;
      }
    }
    total.forEach((t, j) => (best[j] = Math.min(best[j]!, (1000 * t) / runs)));
  }
  for (const s of sessions) s.dispose();
  return { fp32: best[0]!, sparse: best.slice(1) };
}

const backends = (process.argv[2] ? [process.argv[2]] : ['cpu', 'webgpu']) as ('cpu' | 'webgpu')[];
for (const backend of backends) {
  console.log(`\n${backend}: K = N = ${SIZE}, µs per run (best of 7 rounds); fp32 Gemm, then BlockSparseMatMul at each share of zero 4x16 blocks (speed-up vs fp32)`);
  for (const m of process.argv[3] === 'm1' ? [1] : [1, 64]) {
    const t = await timeCase(backend, m);
    const cells = t.sparse.map((us, i) => `${(100 * SPARSITIES[i]!).toFixed(0).padStart(3)}%: ${us.toFixed(1).padStart(8)} (${(t.fp32 / us).toFixed(2)}x)`);
    console.log(`  M=${String(m).padEnd(3)} fp32 ${t.fp32.toFixed(1).padStart(8)}   ${cells.join('   ')}`);
  }
}
process.exit(0);
