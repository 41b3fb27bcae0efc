/**
 * Timing harness for the int8 kernels (not a test). Two parts:
 *  - gpu: QMatMul (static and dynamic scale; dot4I8Packed and the portable dot) against the fp32
 *    MatMul on the same adapter, M = 1 and 64, K = N = 256…1024, GPU time from timestamp queries.
 *  - cpu: batch-1 MLP 784-256-128-10 and the Fashion-MNIST CNN (conv3x3 1→16, ReLU, maxpool2,
 *    conv3x3 16→32, ReLU, maxpool2, dense 1568-128-10) and a depthwise 3x3 conv, int8 (QMatMul/QConv) and fp32 on Tessera's
 *    CPU kernels against onnxruntime-web's wasm EP (1 thread) on the fp32 model.
 * Run:
 *   npx esbuild kernels/quant/perf.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
 *     --packages=external --outfile=.cache/qperf.mjs && node .cache/qperf.mjs [gpu|cpu]
 *   (the bundle sits in the checkout, so it loads that checkout's dist/tessera-cpu.wasm)
 */
import * as ort from 'onnxruntime-web';
import type { Attrs, Model, Node } from '../../core/ir/graph.js';
import { planModel } from '../../core/runtime/plan.js';
import { GpuExecutable } from '../../core/runtime/webgpu/gpu-executable.js';
import { Session } from '../../core/session.js';
import type { Tensor } from '../../core/tensor.js';
import { buildModel, type NodeSpec } from '../../tests/support/onnx-builder.js';
import { TESSERA_DOMAIN } from '../registry.js';
import { randomTensor, testDevice } from '../testing/harness.js';
import { PACKED_DOT_FEATURE } from './gpu.js';
import { quantizeWeightsPerChannel } from './pack.js';

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Layer {
  readonly op: 'MatMul' | 'QMatMul' | 'Conv' | 'QConv';
  readonly w: Tensor;
  readonly b?: Tensor;
  readonly attrs?: Attrs;
  readonly relu?: boolean;
  /** A 2x2 stride-2 MaxPool after the layer (and its Relu). */
  readonly pool?: boolean;
  /** A Flatten of the input before the layer (conv features into a dense layer). */
  readonly flatten?: boolean;
}

const POOL = { kernel_shape: [2, 2], strides: [2, 2] };

function model(input: Tensor, layers: readonly Layer[]): Model {
  const initializers = new Map<string, Tensor>();
  const nodes: Node[] = [];
  let prev = 'x';
  layers.forEach((l, i) => {
    const q = l.op.startsWith('Q');
    if (l.flatten) {
      nodes.push({ name: `flatten_${i}`, opType: 'Flatten', domain: '', inputs: [prev], outputs: [`f${i}`], attrs: {} });
      prev = `f${i}`;
    }
    const inputs = [prev];
    const add = (name: string, t: Tensor): void => {
      initializers.set(name, t);
      inputs.push(name);
    };
    const float = l.op === 'MatMul' ? transpose(l.w) : l.w;
    if (q) {
      const n = l.w.dims[0]!;
      const k = l.w.data.length / n;
      const { packed, scales } = quantizeWeightsPerChannel(l.w.data, n, k);
      add(`w${i}`, { dtype: 'int32', dims: [n, packed.length / n], data: packed });
      add(`s${i}`, { dtype: 'float32', dims: [n], data: scales });
    } else {
      add(`w${i}`, float);
    }
    if (l.b) add(`b${i}`, l.b);
    nodes.push({ name: `${l.op}_${i}`, opType: l.op, domain: q ? TESSERA_DOMAIN : '', inputs, outputs: [`c${i}`], attrs: l.attrs ?? {} });
    prev = `c${i}`;
    if (l.relu) {
      nodes.push({ name: `relu_${i}`, opType: 'Relu', domain: '', inputs: [prev], outputs: [`r${i}`], attrs: {} });
      prev = `r${i}`;
    }
    if (l.pool) {
      nodes.push({ name: `pool_${i}`, opType: 'MaxPool', domain: '', inputs: [prev], outputs: [`p${i}`], attrs: POOL });
      prev = `p${i}`;
    }
  });
  return { opset: 17, producer: 'qperf', graph: { nodes, inputs: [{ name: 'x', dtype: 'float32', dims: input.dims }], outputs: [{ name: prev, dtype: 'float32', dims: [] }], initializers } };
}

/** [N, K] → [K, N]: MatMul reads B as K x N. */
function transpose(w: Tensor): Tensor {
  const [n, k] = w.dims as [number, number];
  const data = new Float32Array(n * k);
  for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) data[j * n + i] = w.data[i * k + j]!;
  return { dtype: 'float32', dims: [k, n], data };
}

/**
 * GPU ms of each one-layer model (timestamp queries), best of 15 rounds in which the variants take
 * turns, so load from other processes on this shared machine hits them alike.
 */
async function gpuTimes(x: Tensor, variants: readonly (readonly [Layer, ReadonlySet<string>])[]): Promise<string[]> {
  const acquired = await testDevice();
  const feeds = new Map([['x', x]]);
  const exes = await Promise.all(variants.map(([layer, wgslFeatures]) => GpuExecutable.create({ ...acquired, wgslFeatures }, planModel(model(x, [layer])))));
  for (const exe of exes) for (let i = 0; i < 3; i++) await exe.run(feeds, true);
  const best = exes.map(() => Infinity);
  for (let round = 0; round < 15; round++) {
    for (const [j, exe] of exes.entries()) best[j] = Math.min(best[j]!, (await exe.run(feeds, true)).timings!.perNodeMs[0]!);
  }
  for (const exe of exes) exe.dispose();
  return best.map((t) => t.toFixed(3));
}

async function gpuSection(): Promise<void> {
  const acquired = await testDevice();
  const portable = new Set<string>();
  console.log(`adapter: ${acquired.adapterInfo}; GPU ms per op (timestamp queries, best of 15, variants interleaved)`);
  console.log('M     K=N    fp32   int8-static  int8-dynamic  int8-static-portable');
  for (const m of [1, 64]) {
    for (const kn of [256, 512, 1024]) {
      const w = randomTensor('float32', [kn, kn], 2, [-0.1, 0.1]);
      const times = await gpuTimes(randomTensor('float32', [m, kn], 1), [
        [{ op: 'MatMul', w }, acquired.wgslFeatures],
        [{ op: 'QMatMul', w, attrs: { k: kn, act_scale: 0.02 } }, acquired.wgslFeatures],
        [{ op: 'QMatMul', w, attrs: { k: kn } }, acquired.wgslFeatures],
        [{ op: 'QMatMul', w, attrs: { k: kn, act_scale: 0.02 } }, portable],
      ]);
      console.log(`${String(m).padEnd(5)} ${String(kn).padEnd(6)} ${times.map((t) => t.padStart(7)).join('      ')}`);
    }
  }
  // The Fashion-MNIST CNN's convolutions at batch 1 (3x3, pad 1, fused Relu).
  console.log('conv (batch 1)              fp32   int8-static  int8-dynamic  int8-static-portable');
  const conv3x3 = { kernel_shape: [3, 3], pads: [1, 1, 1, 1] };
  for (const [cin, cout, hw] of [[1, 16, 28], [16, 32, 14]] as const) {
    const k = cin * 9;
    const w = randomTensor('float32', [cout, cin, 3, 3], 3, [-0.3, 0.3]);
    const qw = { ...w, dims: [cout, k] };
    const times = await gpuTimes(randomTensor('float32', [1, cin, hw, hw], 4), [
      [{ op: 'Conv', w, attrs: conv3x3, relu: true }, acquired.wgslFeatures],
      [{ op: 'QConv', w: qw, attrs: { ...conv3x3, k, act_scale: 0.02 }, relu: true }, acquired.wgslFeatures],
      [{ op: 'QConv', w: qw, attrs: { ...conv3x3, k }, relu: true }, acquired.wgslFeatures],
      [{ op: 'QConv', w: qw, attrs: { ...conv3x3, k, act_scale: 0.02 }, relu: true }, portable],
    ]);
    console.log(`${`${cin}->${cout} ${hw}x${hw}`.padEnd(22)} ${times.map((t) => t.padStart(7)).join('      ')}`);
  }
  console.log(`(packed dot available: ${acquired.wgslFeatures.has(PACKED_DOT_FEATURE)})`);
}

/**
 * Best ms per run of each engine: samples of enough runs to last ≥ 5 ms, the engines taking turns
 * for 60 rounds, so load from other processes on this shared machine hits them alike. Timed in
 * process CPU time (every engine here runs on this one thread), which time slices given to other
 * processes do not inflate; the minimum is the steadiest figure.
 */
async function timeRuns(runs: readonly (() => Promise<unknown>)[]): Promise<number[]> {
  const batches: number[] = [];
  for (const run of runs) {
    for (let i = 0; i < 20; i++) await run();
    const t0 = performance.now();
    await run();
    batches.push(Math.max(1, Math.ceil(10 / Math.max(performance.now() - t0, 1e-3))));
  }
  const best = runs.map(() => Infinity);
  for (let round = 0; round < 60; round++) {
    for (const [j, run] of runs.entries()) {
      const t = process.cpuUsage();
      for (let i = 0; i < batches[j]!; i++) await run();
      const used = process.cpuUsage(t);
      best[j] = Math.min(best[j]!, (used.user + used.system) / 1000 / batches[j]!);
    }
  }
  return best;
}

/** The fp32 network as ONNX for onnxruntime-web: MatMul/Conv + Add-free bias, Relu. */
function onnxOf(input: Tensor, layers: readonly Layer[], outDims: readonly number[]): Uint8Array {
  const initializers: Record<string, Tensor> = {};
  const nodes: NodeSpec[] = [];
  let prev = 'x';
  layers.forEach((l, i) => {
    if (l.flatten) {
      nodes.push({ op: 'Flatten', inputs: [prev], outputs: [`f${i}`] });
      prev = `f${i}`;
    }
    const w = l.op === 'MatMul' ? transpose(l.w) : l.w;
    initializers[`w${i}`] = w;
    const ins = [prev, `w${i}`];
    if (l.op === 'Conv') {
      if (l.b) {
        initializers[`b${i}`] = l.b;
        ins.push(`b${i}`);
      }
      nodes.push({ op: 'Conv', inputs: ins, outputs: [`c${i}`], attrs: convAttrs(l.attrs) });
    } else {
      nodes.push({ op: 'MatMul', inputs: ins, outputs: [`m${i}`] });
      initializers[`b${i}`] = l.b!;
      nodes.push({ op: 'Add', inputs: [`m${i}`, `b${i}`], outputs: [`c${i}`] });
    }
    prev = `c${i}`;
    if (l.relu) {
      nodes.push({ op: 'Relu', inputs: [prev], outputs: [`r${i}`] });
      prev = `r${i}`;
    }
    if (l.pool) {
      nodes.push({ op: 'MaxPool', inputs: [prev], outputs: [`p${i}`], attrs: POOL });
      prev = `p${i}`;
    }
  });
  return buildModel({ inputs: [{ name: 'x', dtype: 'float32', dims: input.dims }], outputs: [{ name: prev, dtype: 'float32', dims: outDims }], nodes, initializers });
}

function convAttrs(attrs: Attrs | undefined): Record<string, number | number[]> {
  const out: Record<string, number | number[]> = {};
  for (const key of ['kernel_shape', 'pads', 'strides', 'group']) if (attrs?.[key] !== undefined) out[key] = attrs[key] as number | number[];
  return out;
}

/** A float network in the int8 twin's terms: MatMul → QMatMul, Conv → QConv with k (dynamic scales). */
function quantized(layers: readonly Layer[]): Layer[] {
  return layers.map((l) => {
    const n = l.w.dims[0]!;
    const k = l.w.data.length / n;
    return { ...l, op: l.op === 'MatMul' ? 'QMatMul' : 'QConv', w: { ...l.w, dims: [n, k] }, attrs: { ...l.attrs, k } };
  });
}

/** Per-node µs (median of the fastest 100 of 2000 profiled runs): the kernels' share of a run. */
async function perNode(m: Model, x: Tensor): Promise<string> {
  const profiled = await Session.load(m, { backend: 'cpu', profile: true });
  const per: number[][] = [];
  for (let i = 0; i < 2000; i++) {
    await profiled.run({ x });
    profiled.report().nodes.forEach((n, j) => (per[j] ??= []).push(n.ms ?? 0));
  }
  const names = profiled.report().nodes.map((n) => n.name);
  profiled.dispose();
  return names.map((name, j) => `${name} ${(median([...per[j]!].sort((a, b) => a - b).slice(0, 100)) * 1000).toFixed(1)} µs`).join(', ');
}

async function cpuSection(): Promise<void> {
  const t = (dims: number[], seed: number, r = 0.1): Tensor => randomTensor('float32', dims, seed, [-r, r]);
  const mlp: Layer[] = [
    { op: 'MatMul', w: t([256, 784], 1), b: t([256], 2), relu: true },
    { op: 'MatMul', w: t([128, 256], 3), b: t([128], 4), relu: true },
    { op: 'MatMul', w: t([10, 128], 5), b: t([10], 6) },
  ];
  const cnnX = randomTensor('float32', [1, 1, 28, 28], 7);
  // The Fashion-MNIST CNN of the int8 target: conv 1→16, pool, conv 16→32, pool, dense 1568-128-10.
  const conv3x3 = { kernel_shape: [3, 3], pads: [1, 1, 1, 1] };
  const cnn: Layer[] = [
    { op: 'Conv', w: t([16, 1, 3, 3], 8, 0.3), b: t([16], 9), relu: true, pool: true, attrs: conv3x3 },
    { op: 'Conv', w: t([32, 16, 3, 3], 10), b: t([32], 11), relu: true, pool: true, attrs: conv3x3 },
    { op: 'MatMul', w: t([128, 1568], 12, 0.05), b: t([128], 13), relu: true, flatten: true },
    { op: 'MatMul', w: t([10, 128], 15), b: t([10], 16) },
  ];
  const dwX = randomTensor('float32', [1, 64, 28, 28], 17);
  const depthwise: Layer[] = [{ op: 'Conv', w: t([64, 1, 3, 3], 18, 0.3), b: t([64], 19), relu: true, attrs: { ...conv3x3, group: 64 } }];
  ort.env.wasm.numThreads = 1;
  console.log('batch 1, CPU ms per run (best sample): tessera int8 | tessera fp32 | ORT-web wasm fp32 1 thread | int8 / ORT');
  for (const [name, x, layers, outDims] of [['MLP 784-256-128-10', randomTensor('float32', [1, 784], 14), mlp, [1, 10]], ['CNN c16-p-c32-p-1568-128-10', cnnX, cnn, [1, 10]], ['depthwise 3x3 64ch 28x28', dwX, depthwise, [1, 64, 28, 28]]] as const) {
    const int8 = await Session.load(model(x, quantized(layers)), { backend: 'cpu' });
    const fp32 = await Session.load(model(x, layers), { backend: 'cpu' });
    const ortSession = await ort.InferenceSession.create(onnxOf(x, layers, outDims), { executionProviders: ['wasm'] });
    const ortFeeds = { x: new ort.Tensor('float32', x.data as Float32Array, [...x.dims]) };
    const [ti, tf, to] = (await timeRuns([() => int8.run({ x }), () => fp32.run({ x }), () => ortSession.run(ortFeeds)])) as [number, number, number];
    console.log(`${name.padEnd(26)} ${ti.toFixed(4)} | ${tf.toFixed(4)} | ${to.toFixed(4)} | ${(ti / to).toFixed(3)}`);
    if (process.env.QPERF_NODES) {
      for (const [label, layerSet] of [['int8', quantized(layers)], ['fp32', layers]] as const) console.log(`  ${label}: ${await perNode(model(x, layerSet), x)}`);
    }
    int8.dispose();
    fp32.dispose();
    await ortSession.release();
  }
}

const only = process.argv[2];
if (!only || only === 'gpu') await gpuSection();
if (!only || only === 'cpu') await cpuSection();
process.exit(0);
