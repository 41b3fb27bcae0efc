/**
 * `npm run compress:fmnist`: every compressed variant of the Fashion-MNIST classifiers, measured on
 * the whole 10 000-image test set against the fp32 model — top-1, cosine of the logits, bundle
 * size against the fp32 ONNX file, steady batch-1 latency on the CPU and WebGPU backends — written
 * to models/fashion-mnist/compression-report.{json,md} (the table in the README) and the bundles to
 * models/fashion-mnist/out/.
 *
 *   tsx scripts/compress-fashion-mnist.ts [--images N] [--backends cpu,webgpu]
 */
import { register } from 'node:module';

// core imports its WGSL as text; Node learns to load it before the first import of core.
register('../bench/wgsl-hooks.mjs', import.meta.url);
const { main } = await import('./fashion-mnist/run-compress.js');
await main(process.argv.slice(2));
