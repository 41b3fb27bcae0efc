/** What the Node side asks the bench page to do, and what it answers. Plain data: it crosses Playwright's evaluate. */

/**
 * Tessera on WebGPU or on its CPU kernels, one onnxruntime-web build from its dist folder with one
 * execution provider, or TensorFlow.js on one backend. The ORT build matters: `onnxruntime-web/webgpu`
 * (ort.webgpu.*) runs ORT's native WebGPU EP from its asyncify wasm, while the default
 * `onnxruntime-web` (ort.*) runs the JS EP (JSEP).
 */
export type Engine =
  | { readonly kind: 'tessera-webgpu' }
  | { readonly kind: 'tessera-cpu' }
  | { readonly kind: 'ort'; readonly build: string; readonly ep: 'webgpu' | 'wasm'; readonly numThreads?: number }
  | { readonly kind: 'tfjs'; readonly backend: 'cpu' | 'wasm' };

export interface InputSpec {
  readonly name: string;
  readonly dims: readonly number[];
  /** URL of the input's float32 little-endian bytes. */
  readonly url: string;
}

export interface MeasureSpec {
  /**
   * Measured in one page, steady samples interleaved as in Node (bench/engines.ts
   * timeEnginesInterleaved). For ORT, an absent numThreads leaves env.wasm.numThreads at ORT's default.
   */
  readonly engines: readonly Engine[];
  readonly modelUrl: string;
  readonly inputs: readonly InputSpec[];
  readonly warmup: number;
  readonly runs: number;
  /** Steady runs stop early once this much time has passed (at least 3 runs are kept). */
  readonly budgetMs: number;
}

export interface OutputValues {
  readonly dims: readonly number[];
  readonly data: readonly number[];
}

export interface Measured {
  readonly ok: true;
  /** Session creation: parse, compile/upload, and (ORT) instantiating its wasm on first use in the page. */
  readonly createMs: number;
  readonly firstRunMs: number;
  /** Wall time of one run after warm-up, each the mean of a batch of `runsPerSample` runs; every run uploads inputs and reads outputs back. */
  readonly steadyMs: readonly number[];
  /** Runs per steady sample: more than 1 when one run is too short to time alone. */
  readonly runsPerSample: number;
  readonly outputs: Readonly<Record<string, OutputValues>>;
  /** Engine-specific facts worth printing: Tessera's backend and adapter, ORT's resolved thread count. */
  readonly detail: Readonly<Record<string, string | number | boolean>>;
}

export interface Failed {
  readonly ok: false;
  /** 'n/a': the engine cannot take this model at all (tfjs and an op with no tfjs equivalent). */
  readonly stage: 'load' | 'first run' | 'steady' | 'harness' | 'n/a';
  readonly error: string;
}

export type MeasureResult = Measured | Failed;

/** The function the bench page puts on `window`. */
export const PAGE_ENTRY = '__tesseraBench';

/** Where the harness serves TensorFlow.js (bundled on demand by `harness.ts`) and its backend's wasm files. */
export const TFJS_BUNDLE = '/tfjs.js';
export const TFJS_WASM_DIR = '/tfjs-wasm/';
