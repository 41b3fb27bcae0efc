/**
 * The engines and the timing loop, shared by the bench page (browser) and the Node CPU section: each
 * side only says how it gets hold of onnxruntime-web and TensorFlow.js.
 */
import type * as Ort from 'onnxruntime-web';
import type * as Tf from '@tensorflow/tfjs-core';
import { Session, loadOnnx, type Tensor } from '../core/index.js';
import type { MeasureResult, MeasureSpec, OutputValues } from './browser/protocol.js';
import { NotApplicable, tfjsProgram } from './tfjs-onnx.js';

export interface Feed {
  readonly name: string;
  readonly dims: readonly number[];
  readonly data: Float32Array;
}

interface RawOutput {
  readonly dims: readonly number[];
  readonly data: ArrayLike<number | bigint>;
}

export interface Loaded {
  /** Outputs as the engine hands them over: turning them into plain arrays stays outside the timed runs. */
  run(feeds: readonly Feed[]): Promise<Record<string, RawOutput>>;
  detail(): Record<string, string | number | boolean>;
  dispose(): Promise<void>;
}

export async function loadTessera(bytes: Uint8Array, feeds: readonly Feed[], backend: 'webgpu' | 'cpu'): Promise<Loaded> {
  const session = await Session.load(bytes, { backend, inputDims: Object.fromEntries(feeds.map((f) => [f.name, f.dims])) });
  return {
    run: (fs) => session.run(Object.fromEntries(fs.map((f): [string, Tensor] => [f.name, { dtype: 'float32', dims: f.dims, data: f.data }]))),
    detail() {
      const r = session.report();
      return { backend: r.backend, adapter: r.adapter ?? '', pipelines: r.pipelines, dispatchesPerRun: r.dispatchesPerRun, cpuMemoryBytes: r.cpuMemoryBytes ?? 0 };
    },
    async dispose() {
      session.dispose();
    },
  };
}

export async function loadOrt(ort: typeof Ort, bytes: Uint8Array, ep: 'webgpu' | 'wasm', numThreads: number | undefined): Promise<Loaded> {
  if (numThreads !== undefined) ort.env.wasm.numThreads = numThreads;
  const session = await ort.InferenceSession.create(bytes, { executionProviders: [ep] });
  return {
    async run(fs) {
      const out = await session.run(Object.fromEntries(fs.map((f) => [f.name, new ort.Tensor('float32', f.data, [...f.dims])])));
      return Object.fromEntries(Object.entries(out).map(([k, t]): [string, RawOutput] => [k, { dims: t.dims, data: t.data as ArrayLike<number | bigint> }]));
    },
    detail() {
      // Which wasm the build loaded says which WebGPU EP ran (pages only; ORT's are named ort-*); ORT
      // writes the thread count it resolved back into env.
      const wasm = performance.getEntriesByType('resource').map((r) => r.name.slice(r.name.lastIndexOf('/') + 1)).filter((n) => n.startsWith('ort') && n.endsWith('.wasm'));
      const g = globalThis as { crossOriginIsolated?: boolean; navigator?: { hardwareConcurrency?: number } };
      return { numThreads: ort.env.wasm.numThreads ?? 'unset', crossOriginIsolated: g.crossOriginIsolated ?? 'n/a', hardwareConcurrency: g.navigator?.hardwareConcurrency ?? 'n/a', wasm: wasm.join(' ') };
    },
    dispose: () => session.release(),
  };
}

/** TensorFlow.js on the given backend ('wasm' one thread, SIMD, to stand beside ORT wasm 1 thread), running the ONNX graph as tf ops. */
export async function loadTfjs(tf: typeof Tf, backend: 'cpu' | 'wasm', bytes: Uint8Array): Promise<Loaded> {
  if (backend === 'wasm') tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  if (!(await tf.setBackend(backend))) throw new Error(`tfjs backend ${backend} failed to initialize`);
  await tf.ready();
  const program = tfjsProgram(tf, loadOnnx(bytes));
  return {
    async run(fs) {
      const outputs = tf.tidy(() => program(Object.fromEntries(fs.map((f) => [f.name, tf.tensor(f.data, [...f.dims], 'float32')]))));
      try {
        const entries = await Promise.all(Object.entries(outputs).map(async ([k, t]): Promise<[string, RawOutput]> => [k, { dims: t.shape, data: await t.data() }]));
        return Object.fromEntries(entries);
      } finally {
        tf.dispose(Object.values(outputs));
      }
    },
    detail() {
      const simd = backend === 'wasm' ? tf.env().getBool('WASM_HAS_SIMD_SUPPORT') : 'n/a';
      return { backend: tf.getBackend(), simd, tfjs: tf.version_core };
    },
    async dispose() {
      program.dispose();
    },
  };
}

function plain(outputs: Record<string, RawOutput>): Record<string, OutputValues> {
  return Object.fromEntries(Object.entries(outputs).map(([k, t]) => [k, { dims: [...t.dims], data: Array.from(t.data, Number) }]));
}

export function errorMessage(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return typeof e === 'string' ? e : JSON.stringify(e);
}

/**
 * A steady sample is at least this long: a head runs in well under a tenth of a millisecond, about
 * the jitter of the clock and the event loop, so short runs are timed in batches and averaged.
 */
const MIN_SAMPLE_MS = 2;

/**
 * Warm-up lasts at least this long as well as `warmup` runs: in a fresh page V8 runs wasm first
 * as baseline code and swaps in optimised code compiled in the background. Five runs of a 0.05 ms
 * head ended long before that, and Tessera's CPU kernels read 0.08 ms in Chromium (0.05 ms after
 * 300 runs, as in Node).
 */
const WARMUP_MS = 300;

type Spec = Pick<MeasureSpec, 'warmup' | 'runs' | 'budgetMs'>;
type Stage = 'load' | 'first run' | 'steady';

/** One engine loaded, run once and warmed up, with its batch size fixed: ready to take samples. */
interface Started {
  readonly loaded: Loaded;
  readonly createMs: number;
  readonly firstRunMs: number;
  readonly runsPerSample: number;
  readonly steadyMs: number[];
  outputs: Record<string, RawOutput>;
}

class StageError extends Error {
  constructor(readonly stage: Stage, readonly error: unknown) {
    super(errorMessage(error));
  }
}

async function startEngine(load: () => Promise<Loaded>, feeds: readonly Feed[], spec: Spec): Promise<Started> {
  let stage: Stage = 'load';
  let loaded: Loaded | undefined;
  try {
    const t0 = performance.now();
    loaded = await load();
    const t1 = performance.now();
    stage = 'first run';
    let outputs = await loaded.run(feeds);
    const t2 = performance.now();
    stage = 'steady';
    const w = performance.now();
    for (let i = 0; i < spec.warmup || performance.now() - w < WARMUP_MS; i++) outputs = await loaded.run(feeds);
    // Batch size from the fastest of at least 5 runs after the warm-up: slow outliers (GC, a JIT
    // tier-up) must not shrink the batch back into the clock's noise. With fewer, one slow run that
    // outlasted the window alone set a batch of 1, and a 0.05 ms head then read 0.13 ms in Chromium.
    let fastest = Infinity;
    const c = performance.now();
    for (let n = 0; spec.runs > 0 && (n < 5 || performance.now() - c < 2 * MIN_SAMPLE_MS); n++) {
      const s = performance.now();
      outputs = await loaded.run(feeds);
      fastest = Math.min(fastest, performance.now() - s);
    }
    const runsPerSample = Number.isFinite(fastest) ? Math.max(1, Math.ceil(MIN_SAMPLE_MS / Math.max(fastest, 1e-3))) : 1;
    return { loaded, createMs: t1 - t0, firstRunMs: t2 - t1, runsPerSample, steadyMs: [], outputs };
  } catch (e) {
    await loaded?.dispose().catch(() => undefined);
    throw new StageError(stage, e);
  }
}

async function takeSample(e: Started, feeds: readonly Feed[]): Promise<void> {
  const s = performance.now();
  for (let i = 0; i < e.runsPerSample; i++) e.outputs = await e.loaded.run(feeds);
  e.steadyMs.push((performance.now() - s) / e.runsPerSample);
}

function failure(e: unknown): MeasureResult {
  const cause = e instanceof StageError ? e.error : e;
  if (cause instanceof NotApplicable) return { ok: false, stage: 'n/a', error: cause.message };
  return { ok: false, stage: e instanceof StageError ? e.stage : 'steady', error: errorMessage(cause) };
}

function result(e: Started): MeasureResult {
  const { createMs, firstRunMs, steadyMs, runsPerSample } = e;
  return { ok: true, createMs, firstRunMs, steadyMs, runsPerSample, outputs: plain(e.outputs), detail: e.loaded.detail() };
}

const enough = (taken: number, start: number, spec: Spec): boolean => taken >= spec.runs || (taken >= 3 && performance.now() - start >= spec.budgetMs);

/**
 * Times creation, the first run and steady runs of one or several engines on one model, in one
 * process (Node, or one page): each is created and run first in turn, then their steady samples
 * alternate, one sample each per round, so a drift of the machine (clock boost, a neighbour's load)
 * lands on every engine alike instead of on whichever ran during it. The budget (steady phase
 * stops early) is per engine. `load` starts the clock only once the model bytes and feeds are in
 * memory.
 */
export async function timeEnginesInterleaved(loads: readonly (() => Promise<Loaded>)[], feeds: readonly Feed[], spec: Spec): Promise<MeasureResult[]> {
  const results: (MeasureResult | undefined)[] = [];
  const running: { at: number; e: Started }[] = [];
  try {
    for (const [at, load] of loads.entries()) {
      try {
        running.push({ at, e: await startEngine(load, feeds, spec) });
      } catch (e) {
        results[at] = failure(e);
      }
    }
    const start = performance.now();
    const budget = { ...spec, budgetMs: spec.budgetMs * running.length };
    for (let round = 0; running.length && !enough(round, start, budget); round++) {
      for (let k = 0; k < running.length; k++) {
        const r = running[(round + k) % running.length]!;
        if (results[r.at]) continue;
        try {
          await takeSample(r.e, feeds);
        } catch (e) {
          results[r.at] = failure(e);
        }
      }
    }
    for (const { at, e } of running) results[at] ??= result(e);
    return results.map((r) => r!);
  } finally {
    for (const { e } of running) await e.loaded.dispose().catch(() => undefined);
  }
}
