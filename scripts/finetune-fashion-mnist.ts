/**
 * `npm run finetune:fmnist [-- --out DIR]`: prunes the dense layers of the committed Fashion-MNIST
 * MLP and CNN 2:4 and fine-tunes them, writing models/fashion-mnist/{mlp,cnn}-2x4.onnx and
 * finetune-report.json (see scripts/fashion-mnist/run-finetune.ts).
 */
import { register } from 'node:module';

// core imports its WGSL as text; Node learns to load it before the first import of core.
register('../bench/wgsl-hooks.mjs', import.meta.url);
const { main } = await import('./fashion-mnist/run-finetune.js');
await main(process.argv.slice(2));
