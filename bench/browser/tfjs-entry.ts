/**
 * TensorFlow.js for the bench: tfjs-core with the cpu and wasm backends, nothing else (the full
 * `@tensorflow/tfjs` would bring layers, converter and WebGL). Bundled for the page by harness.ts;
 * the Node CPU section imports it as is.
 */
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';

export { tf };
export { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
