/**
 * The CPU section's Node side: every engine in this one process, on the bytes
 * and inputs the page gets. onnxruntime-web resolves to its Node build (wasm from its own dist
 * folder); TensorFlow.js is tfjs-core with its cpu and wasm backends, as in the page.
 */
import { readFileSync } from 'node:fs';
import type { Engine, MeasureResult, MeasureSpec } from './browser/protocol.js';
import { errorMessage, loadOrt, loadTessera, loadTfjs, timeEnginesInterleaved, type Loaded } from './engines.js';
import type { PreparedModel } from './models.js';

async function load(engine: Engine, bytes: Uint8Array, p: PreparedModel): Promise<Loaded> {
  switch (engine.kind) {
    case 'tessera-cpu':
      return loadTessera(bytes, p.inputs, 'cpu');
    case 'ort': {
      if (engine.ep !== 'wasm') throw new Error('ORT WebGPU is measured in the page only');
      const ort = await import('onnxruntime-web');
      // In-process, like the other engines: no proxy worker.
      ort.env.wasm.proxy = false;
      return loadOrt(ort, bytes, 'wasm', engine.numThreads);
    }
    case 'tfjs': {
      const { tf } = await import('./browser/tfjs-entry.js');
      return loadTfjs(tf, engine.backend, bytes);
    }
    case 'tessera-webgpu':
      throw new Error('Tessera WebGPU is measured in the page only');
  }
}

/** The engines on one model, their steady samples interleaved (timeEnginesInterleaved). */
export async function measureInNode(engines: readonly Engine[], p: PreparedModel, spec: Pick<MeasureSpec, 'warmup' | 'runs' | 'budgetMs'>): Promise<MeasureResult[]> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(p.path));
  } catch (e) {
    return engines.map(() => ({ ok: false, stage: 'harness', error: errorMessage(e) }));
  }
  return timeEnginesInterleaved(engines.map((engine) => () => load(engine, bytes, p)), p.inputs, spec);
}
