/**
 * `npm run train:fmnist [-- --out DIR --mlp-epochs N --cnn-epochs N]`: trains the Fashion-MNIST
 * MLP and CNN and writes models/fashion-mnist/{mlp,cnn}.onnx and train-report.json
 * (see scripts/fashion-mnist/run-training.ts).
 */
import { register } from 'node:module';

// core imports its WGSL as text; Node learns to load it before the first import of core.
register('../bench/wgsl-hooks.mjs', import.meta.url);
const { main } = await import('./fashion-mnist/run-training.js');
await main(process.argv.slice(2));
