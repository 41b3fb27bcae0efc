/**
 * Timing of SparseQMatMul (2:4 + int8) against dense int8 QMatMul and fp32 MatMul (not a test):
 * M = 1 and 64, K = N = 256…1024, and the 784-256-128-10 MLP at batch 1, on the CPU kernels and on
 * WebGPU. The three variants of a case take turns run by run, in rounds, and each keeps its best
 * round, so load from other processes skews them alike. Figures are kernel time from the session's
 * profile: wall time per node on the CPU, GPU timestamps per node on WebGPU (wall time per run,
 * submit and readback included, where the adapter has no timestamp queries). Run:
 *   npx esbuild kernels/sparse/perf.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
 *     --packages=external --outfile=dist/perf/sparse-perf.mjs && node dist/perf/sparse-perf.mjs [cpu|webgpu] [m1]
 * (`m1`: the batch-1 cases only.)
 */
import type { Model, Node } from '../../core/ir/graph.js';
import { Session } from '../../core/session.js';
import type { Tensor } from '../../core/tensor.js';
import { quantizeWeightsPerChannel } from '../quant/pack.js';
import { TESSERA_DOMAIN } from '../registry.js';
import { randomTensor, testDevice } from '../testing/harness.js';
import { packSparse24Int8 } from './sparse24.js';

type Variant = 'fp32' | 'int8' | '2:4+int8';
const VARIANTS: Variant[] = ['fp32', 'int8', '2:4+int8'];

const int32 = (data: Int32Array, n: number): Tensor => ({ dtype: 'int32', dims: [n, data.length / n], data });
const f32 = (data: Float32Array): Tensor => ({ dtype: 'float32', dims: [data.length], data });

/** One dense layer [K → N] (weights float [N, K]) as the variant's node and initializers. */
function layer(variant: Variant, w: Float32Array, n: number, k: number, bias: Float32Array, input: string, output: string, init: Map<string, Tensor>): Node {
  const name = (s: string): string => `${output}_${s}`;
  const add = (s: string, t: Tensor): string => {
    init.set(name(s), t);
    return name(s);
  };
  if (variant === 'fp32') {
    const wt = new Float32Array(k * n);
    for (let r = 0; r < n; r++) for (let c = 0; c < k; c++) wt[c * n + r] = w[r * k + c]!;
    return { name: output, opType: 'Gemm', domain: '', inputs: [input, add('w', { dtype: 'float32', dims: [k, n], data: wt }), add('b', f32(bias))], outputs: [output], attrs: {} };
  }
  if (variant === 'int8') {
    const { packed, scales } = quantizeWeightsPerChannel(w, n, k);
    return { name: output, opType: 'QMatMul', domain: TESSERA_DOMAIN, inputs: [input, add('w', int32(packed, n)), add('s', f32(scales)), add('b', f32(bias))], outputs: [output], attrs: { k } };
  }
  const { values, indices, scales } = packSparse24Int8(w, n, k);
  return {
    name: output, opType: 'SparseQMatMul', domain: TESSERA_DOMAIN,
    inputs: [input, add('v', int32(values, n)), add('i', int32(indices, n)), add('s', f32(scales)), add('b', f32(bias))], outputs: [output], attrs: { k },
  };
}

/** Layers of sizes dims[0] → dims[1] → …, ReLU between; input [m, dims[0]]. */
function mlp(variant: Variant, m: number, dims: readonly number[], seed: number): Model {
  const init = new Map<string, Tensor>();
  const nodes: Node[] = [];
  let prev = 'x';
  for (let i = 0; i + 1 < dims.length; i++) {
    const [k, n] = [dims[i]!, dims[i + 1]!];
    const w = randomTensor('float32', [n, k], seed + i, [-0.1, 0.1]).data as Float32Array;
    const b = randomTensor('float32', [n], seed + 100 + i, [-0.1, 0.1]).data as Float32Array;
    nodes.push(layer(variant, w, n, k, b, prev, `h${i}`, init));
    prev = `h${i}`;
    if (i + 2 < dims.length) {
      nodes.push({ name: `relu${i}`, opType: 'Relu', domain: '', inputs: [prev], outputs: [`r${i}`], attrs: {} });
      prev = `r${i}`;
    }
  }
  return {
    opset: 17, producer: 'tessera-perf',
    graph: { nodes, inputs: [{ name: 'x', dtype: 'float32', dims: [m, dims[0]!] }], outputs: [{ name: prev, dtype: 'float32', dims: [] }], initializers: init },
  };
}

async function timeCase(backend: 'cpu' | 'webgpu', m: number, dims: readonly number[]): Promise<Record<Variant, number>> {
  const acquired = backend === 'webgpu' ? await testDevice() : undefined;
  const timed = backend === 'cpu' || !!acquired?.features.has('timestamp-query');
  const x = randomTensor('float32', [m, dims[0]!], 1);
  const sessions = await Promise.all(VARIANTS.map((v) => Session.load(mlp(v, m, dims, 7), { backend, device: acquired?.device, profile: timed })));
  const best = VARIANTS.map(() => Infinity);
  const runs = backend === 'cpu' ? 40 : 10;
  for (const s of sessions) for (let i = 0; i < 5; i++) await s.run({ x });
  for (let round = 0; round < 7; round++) {
    const total = VARIANTS.map(() => 0);
    for (let i = 0; i < runs; i++) {
      for (const [j, s] of sessions.entries()) {
        const t0 = performance.now();
        await s.run({ x });
        total[j]! += timed ? s.report().nodes.reduce((a, n) => a + (n.ms ?? 0), 0) : performance.now() - t0;
      }
    }
    total.forEach((t, j) => (best[j] = Math.min(best[j]!, t / runs)));
  }
  for (const s of sessions) s.dispose();
  return Object.fromEntries(VARIANTS.map((v, j) => [v, best[j]!])) as Record<Variant, number>;
}

const backends = (process.argv[2] ? [process.argv[2]] : ['cpu', 'webgpu']) as ('cpu' | 'webgpu')[];
const cases: [number, number[]][] = [
  ...(process.argv[3] === 'm1' ? [1] : [1, 64]).flatMap((m) => [256, 512, 1024].map((s): [number, number[]] => [m, [s, s]])),
  [1, [784, 256, 128, 10]],
];
for (const backend of backends) {
  console.log(`\n${backend}: µs per run (best of 7 rounds)        fp32     int8  2:4+int8   2:4 vs int8`);
  for (const [m, dims] of cases) {
    const t = await timeCase(backend, m, dims);
    const us = (v: Variant): string => (t[v] * 1000).toFixed(1).padStart(9);
    console.log(`  M=${String(m).padEnd(3)} ${dims.join('-').padEnd(28)}${us('fp32')}${us('int8')}${us('2:4+int8')}   ${(t.int8 / t['2:4+int8']).toFixed(2)}x`);
  }
}
process.exit(0);
