/**
 * Runs in the page (bundled by esbuild): loads one model in one engine, times creation, the first
 * run and steady runs, and hands the outputs back. Each measurement gets a fresh page from the
 * harness so that no engine's caches or compiled wasm help another.
 */
import type * as Ort from 'onnxruntime-web';
import { Session, type Tensor } from '../../core/index.js';
import { PAGE_ENTRY, type Engine, type MeasureResult, type MeasureSpec, type OutputValues } from './protocol.js';

interface Feed {
  readonly name: string;
  readonly dims: readonly number[];
  readonly data: Float32Array;
}

interface RawOutput {
  readonly dims: readonly number[];
  readonly data: ArrayLike<number | bigint>;
}

interface Loaded {
  /** Outputs as the engine hands them over: turning them into plain arrays stays outside the timed runs. */
  run(feeds: readonly Feed[]): Promise<Record<string, RawOutput>>;
  detail(): Record<string, string | number | boolean>;
  dispose(): Promise<void>;
}

/** The server puts onnxruntime-web's dist folder here; ORT also loads its .mjs/.wasm from it, never from a CDN. */
const ORT_DIST = '/ort/';

function plain(outputs: Record<string, RawOutput>): Record<string, OutputValues> {
  return Object.fromEntries(Object.entries(outputs).map(([k, t]) => [k, { dims: [...t.dims], data: Array.from(t.data, Number) }]));
}

async function loadTessera(bytes: Uint8Array, feeds: readonly Feed[]): Promise<Loaded> {
  const session = await Session.load(bytes, {
    backend: 'webgpu',
    inputDims: Object.fromEntries(feeds.map((f) => [f.name, f.dims])),
  });
  return {
    run: (fs) => session.run(Object.fromEntries(fs.map((f): [string, Tensor] => [f.name, { dtype: 'float32', dims: f.dims, data: f.data }]))),
    detail() {
      const r = session.report();
      return { backend: r.backend, adapter: r.adapter ?? '', pipelines: r.pipelines, dispatchesPerRun: r.dispatchesPerRun };
    },
    async dispose() {
      session.dispose();
    },
  };
}

async function loadOrt(engine: Extract<Engine, { kind: 'ort' }>, bytes: Uint8Array): Promise<Loaded> {
  // A runtime URL keeps esbuild from bundling ORT: the page loads the published dist build as a user would.
  const ort = (await import(/* @vite-ignore */ `${ORT_DIST}${engine.build}`)) as typeof Ort;
  ort.env.wasm.wasmPaths = ORT_DIST;
  if (engine.numThreads !== undefined) ort.env.wasm.numThreads = engine.numThreads;
  const session = await ort.InferenceSession.create(bytes, { executionProviders: [engine.ep] });
  return {
    async run(fs) {
      const out = await session.run(Object.fromEntries(fs.map((f) => [f.name, new ort.Tensor('float32', f.data, [...f.dims])])));
      return Object.fromEntries(Object.entries(out).map(([k, t]): [string, RawOutput] => [k, { dims: t.dims, data: t.data as ArrayLike<number | bigint> }]));
    },
    detail() {
      // Which wasm the build loaded says which WebGPU EP ran; ORT writes the thread count it resolved back into env.
      const wasm = performance.getEntriesByType('resource').map((r) => r.name.slice(r.name.lastIndexOf('/') + 1)).filter((n) => n.endsWith('.wasm'));
      return { numThreads: ort.env.wasm.numThreads ?? 'unset', crossOriginIsolated, hardwareConcurrency: navigator.hardwareConcurrency, wasm: wasm.join(' ') };
    },
    dispose: () => session.release(),
  };
}

function load(engine: Engine, bytes: Uint8Array, feeds: readonly Feed[]): Promise<Loaded> {
  return engine.kind === 'tessera-webgpu' ? loadTessera(bytes, feeds) : loadOrt(engine, bytes);
}

async function fetchBytes(url: string): Promise<ArrayBuffer> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: ${res.status}`);
  return res.arrayBuffer();
}

function message(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return typeof e === 'string' ? e : JSON.stringify(e);
}

async function measure(spec: MeasureSpec): Promise<MeasureResult> {
  let stage: 'harness' | 'load' | 'first run' | 'steady' = 'harness';
  let loaded: Loaded | undefined;
  try {
    const bytes = new Uint8Array(await fetchBytes(spec.modelUrl));
    const feeds = await Promise.all(
      spec.inputs.map(async (i): Promise<Feed> => ({ name: i.name, dims: i.dims, data: new Float32Array(await fetchBytes(i.url)) })),
    );
    stage = 'load';
    const t0 = performance.now();
    loaded = await load(spec.engine, bytes, feeds);
    const t1 = performance.now();
    stage = 'first run';
    let outputs = await loaded.run(feeds);
    const t2 = performance.now();
    stage = 'steady';
    for (let i = 0; i < spec.warmup; i++) outputs = await loaded.run(feeds);
    const steadyMs: number[] = [];
    const start = performance.now();
    while (steadyMs.length < spec.runs && (steadyMs.length < 3 || performance.now() - start < spec.budgetMs)) {
      const s = performance.now();
      outputs = await loaded.run(feeds);
      steadyMs.push(performance.now() - s);
    }
    return { ok: true, createMs: t1 - t0, firstRunMs: t2 - t1, steadyMs, outputs: plain(outputs), detail: loaded.detail() };
  } catch (e) {
    return { ok: false, stage, error: message(e) };
  } finally {
    await loaded?.dispose().catch(() => undefined);
  }
}

(globalThis as Record<string, unknown>)[PAGE_ENTRY] = measure;
