/**
 * `npx tsx scripts/eval-fashion-mnist.ts MODEL.onnx [--backend cpu|webgpu|reference] [--batch N]
 * [--split test|holdout|train]`: top-1 over the split (the 10k test set by default); see
 * scripts/fashion-mnist/run-eval.ts.
 */
import { register } from 'node:module';

// core imports its WGSL as text; Node learns to load it before the first import of core.
register('../bench/wgsl-hooks.mjs', import.meta.url);
const { main } = await import('./fashion-mnist/run-eval.js');
await main(process.argv.slice(2));
