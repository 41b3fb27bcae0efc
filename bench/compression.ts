/**
 * `npm run bench:compression`: the compressed Fashion-MNIST classifiers, batch 1, steady state, in
 * one Node process: Tessera's CPU kernels and WebGPU (Dawn on this machine's adapter) for every
 * variant, against onnxruntime-web wasm (1 thread) on the fp32 model. Prints and writes
 * bench/results/compression.{json,md} with the ratios:
 *   int8 cpu ÷ ORT wasm fp32 (MLP ≤ 1/4, CNN ≤ 1/2), int8 webgpu ÷ fp32 webgpu (< 1),
 *   2:4+int8 ÷ int8 on each backend for the MLP (< 1).
 *
 *   tsx bench/compression.ts [--smoke] [--runs N]
 * Every engine of a model is loaded, then timed in interleaved rounds (each round visits each once).
 * The smoke run (CI) times the MLP only, with few rounds: it proves the path, not the figures.
 */
import { register } from 'node:module';

// core imports its WGSL as text; Node learns to load it before the first import of core.
register('./wgsl-hooks.mjs', import.meta.url);
const { main } = await import('./compression-run.js');
await main(process.argv.slice(2));
