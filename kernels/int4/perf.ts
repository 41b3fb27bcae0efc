/**
 * Q4MatMul, with int8 activations (dynamic per-row scale) and with float ones, against the fp32
 * MatMul and the int8 W8A8 QMatMul (dynamic scale) of the same weights, on the CPU kernels and on
 * WebGPU, for the batch-1 GEMV (M = 1) and a batch of 64 rows, K = N from 256 to 1024. Prints a
 * table of median `session.run` wall times (feeds in, one readback out). A measurement, not a test.
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
const { quantizeWeightsPerChannel } = await import('../quant/pack.js');
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

/** The same weights in every form: int4 blocks (float and int8 activations), their dequantized fp32 [K, N] for MatMul, and that requantized per channel for QMatMul. */
function models(k: number, n: number): Record<'q4i8' | 'q4' | 'f32' | 'q8', Model> {
  const q = quantizeInt4Blocks(randomTensor('float32', [n, k], 1), { zeroPoint: false, scaleDtype: 'float16' });
  const scales = widenHalfScales(q.scales.data, n, groupsOf(k));
  const ints = unpackInt4Blocks(q.packed.data, undefined, n, k);
  const nk = Float32Array.from(ints, (v, i) => v * scales[Math.floor(i / k) * groupsOf(k) + ((i % k) >> 5)]!);
  const b = new Float32Array(k * n);
  for (let j = 0; j < n; j++) for (let p = 0; p < k; p++) b[p * n + j] = nk[j * k + p]!;
  const q8 = quantizeWeightsPerChannel(nk, n, k);
  const x: Tensor = { dtype: 'float32', dims: [1, k], data: new Float32Array(k) };
  const q4Of = (attrs: Record<string, number>): Model => oneNodeModel('Q4MatMul', [x, q.packed, q.scales], attrs, { constInputs: [1, 2], domain: TESSERA_DOMAIN });
  return {
    q4i8: q4Of({ act_int8: 1 }),
    q4: q4Of({}),
    f32: oneNodeModel('MatMul', [x, { dtype: 'float32', dims: [k, n], data: b }], {}, { constInputs: [1] }),
    q8: oneNodeModel('QMatMul', [x, { dtype: 'int32', dims: [n, q8.packed.length / n], data: q8.packed }, { dtype: 'float32', dims: [n], data: q8.scales }], { k }, { constInputs: [1, 2], domain: TESSERA_DOMAIN }),
  };
}

/** The models' input declared for M rows (oneNodeModel took its dims from the placeholder). */
function withRows(model: Model, m: number, k: number): Model {
  return { ...model, graph: { ...model.graph, inputs: [{ name: 'x0', dtype: 'float32', dims: [m, k] }] } };
}

console.log('| backend | M | K=N | Q4 int8-act (ms) | Q4 float-act (ms) | fp32 MatMul (ms) | QMatMul int8 (ms) | fp32 / Q4 int8-act | QMatMul / Q4 int8-act |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const backend of backends) {
  for (const m of [1, 64]) {
    for (const size of [256, 512, 1024]) {
      const all = models(size, size);
      const x = randomTensor('float32', [m, size], 2);
      const t: Record<string, number> = {};
      for (const [name, model] of Object.entries(all)) t[name] = await medianMs(withRows(model, m, size), x, backend);
      const { q4i8, q4, f32, q8 } = t as Record<keyof typeof all, number>;
      console.log(`| ${backend} | ${m} | ${size} | ${[q4i8, q4, f32, q8].map((v) => v.toFixed(3)).join(' | ')} | ${(f32 / q4i8).toFixed(2)} | ${(q8 / q4i8).toFixed(2)} |`);
    }
  }
}
process.exit(0);
