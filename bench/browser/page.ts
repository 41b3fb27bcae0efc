/**
 * Runs in the page (bundled by esbuild): loads one model in the engines asked for, times creation,
 * the first run and steady runs (interleaved across engines), and hands the outputs back. Each
 * measurement gets a fresh page from the harness, so no earlier page's caches or compiled wasm
 * help an engine.
 */
import type * as Ort from 'onnxruntime-web';
import type * as Tf from '@tensorflow/tfjs-core';
import { errorMessage, loadOrt, loadTessera, loadTfjs, timeEnginesInterleaved, type Feed, type Loaded } from '../engines.js';
import { PAGE_ENTRY, TFJS_BUNDLE, TFJS_WASM_DIR, type Engine, type MeasureResult, type MeasureSpec } from './protocol.js';

/** The server puts onnxruntime-web's dist folder here; ORT also loads its .mjs/.wasm from it, never from a CDN. */
const ORT_DIST = '/ort/';

async function load(engine: Engine, bytes: Uint8Array, feeds: readonly Feed[]): Promise<Loaded> {
  switch (engine.kind) {
    case 'tessera-webgpu':
      return loadTessera(bytes, feeds, 'webgpu');
    // The CPU kernels' wasm comes from beside page.js, as it would from beside dist/tessera.mjs.
    case 'tessera-cpu':
      return loadTessera(bytes, feeds, 'cpu');
    case 'ort': {
      // A runtime URL keeps esbuild from bundling ORT: the page loads the published dist build as a user would.
      const ort = (await import(/* @vite-ignore */ `${ORT_DIST}${engine.build}`)) as typeof Ort;
      ort.env.wasm.wasmPaths = ORT_DIST;
      return loadOrt(ort, bytes, engine.ep, engine.numThreads);
    }
    case 'tfjs': {
      // A bundle of its own (tfjs-core, cpu and wasm backends), loaded only by the pages that measure tfjs.
      const { tf, setWasmPaths } = (await import(/* @vite-ignore */ TFJS_BUNDLE)) as { tf: typeof Tf; setWasmPaths(prefix: string): void };
      setWasmPaths(TFJS_WASM_DIR);
      return loadTfjs(tf, engine.backend, bytes);
    }
  }
}

async function fetchBytes(url: string): Promise<ArrayBuffer> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: ${res.status}`);
  return res.arrayBuffer();
}

async function measure(spec: MeasureSpec): Promise<MeasureResult[]> {
  let bytes: Uint8Array;
  let feeds: Feed[];
  try {
    bytes = new Uint8Array(await fetchBytes(spec.modelUrl));
    feeds = await Promise.all(spec.inputs.map(async (i): Promise<Feed> => ({ name: i.name, dims: i.dims, data: new Float32Array(await fetchBytes(i.url)) })));
  } catch (e) {
    return spec.engines.map(() => ({ ok: false, stage: 'harness', error: errorMessage(e) }));
  }
  return timeEnginesInterleaved(spec.engines.map((engine) => () => load(engine, bytes, feeds)), feeds, spec);
}

(globalThis as Record<string, unknown>)[PAGE_ENTRY] = measure;
