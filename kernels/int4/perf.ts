/**
 * Q4MatMul against the fp32 MatMul of the same shape, on the CPU kernels and on WebGPU, for the
 * batch-1 GEMV (M = 1) and a batch of 64 rows, K = N from 256 to 1024. Prints a table of median
 * `session.run` wall times (feeds in, one readback out). A measurement, not a test.
 *
 *   npx tsx kernels/int4/perf.ts [--backends cpu,webgpu] [--runs 20]
 */
import { register } from 'node:module';
import { parseArgs } from 'node:util';

register('../../bench/wgsl-hooks.mjs', import.meta.url);

const { values } = parseArgs({ options: { backends: { type: 'string', default: 'cpu,webgpu' }, runs: { type: 'string', default: '20' } } });
const { Session } = await import('../../core/session.js');
const { acquireDevice } = await import('../../core/gpu/device.js');
const { oneNodeModel, randomTensor } = await import('../testing/harness.js');
const { TESSERA_DOMAIN } = await import('../registry.js');
const { quantizeInt4Blocks, unpackInt4Blocks, widenHalfScales, groupsOf } = await import('./pack.js');
type Tensor = import('../../core/tensor.js').Tensor;
type Model = import('../../core/ir/graph.js').Model;
type Backend = 'cpu' | 'webgpu';

const runs = Number(values.runs);
const backends = values.backends.split(',') as Backend[];
const device = backends.includes('webgpu') ? (await acquireDevice()).device : undefined;

async function medianMs(model: Model, x: Tensor, backend: Backend): Promise<number> {
  const session = await Session.load(model, { backend, device });
  try {
    for (let i = 0; i < 3; i++) await session.run({ x0: x });
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      await session.run({ x0: x });
      times.push(performance.now() - t0);
    }
    return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
  } finally {
    session.dispose();
  }
}

/** The same weights in both forms: int4 blocks, and their dequantized fp32 [K, N] for MatMul. */
function models(k: number, n: number): { q4: Model; f32: Model } {
  const q = quantizeInt4Blocks(randomTensor('float32', [n, k], 1), { zeroPoint: false, scaleDtype: 'float16' });
  const scales = widenHalfScales(q.scales.data, n, groupsOf(k));
  const ints = unpackInt4Blocks(q.packed.data, undefined, n, k);
  const b = new Float32Array(k * n);
  for (let j = 0; j < n; j++) for (let p = 0; p < k; p++) b[p * n + j] = ints[j * k + p]! * scales[j * groupsOf(k) + (p >> 5)]!;
  const x: Tensor = { dtype: 'float32', dims: [1, k], data: new Float32Array(k) };
  return {
    q4: oneNodeModel('Q4MatMul', [x, q.packed, q.scales], {}, { constInputs: [1, 2], domain: TESSERA_DOMAIN }),
    f32: oneNodeModel('MatMul', [x, { dtype: 'float32', dims: [k, n], data: b }], {}, { constInputs: [1] }),
  };
}

/** The models' input declared for M rows (oneNodeModel took its dims from the placeholder). */
function withRows(model: Model, m: number, k: number): Model {
  return { ...model, graph: { ...model.graph, inputs: [{ name: 'x0', dtype: 'float32', dims: [m, k] }] } };
}

console.log('| backend | M | K=N | fp32 MatMul (ms) | Q4MatMul (ms) | fp32 / int4 |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const backend of backends) {
  for (const m of [1, 64]) {
    for (const size of [256, 512, 1024]) {
      const { q4, f32 } = models(size, size);
      const x = randomTensor('float32', [m, size], 2);
      const tf = await medianMs(withRows(f32, m, size), x, backend);
      const tq = await medianMs(withRows(q4, m, size), x, backend);
      console.log(`| ${backend} | ${m} | ${size} | ${tf.toFixed(3)} | ${tq.toFixed(3)} | ${(tf / tq).toFixed(2)} |`);
    }
  }
}
process.exit(0);
