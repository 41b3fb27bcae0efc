/**
 * TensorFlow.js for training in Node: the wasm backend (XNNPACK, SIMD) when it starts, else the
 * plain-JS cpu backend, which is many times slower on convolutions. One thread: tfjs runs threaded
 * wasm only in browsers, and one thread keeps the float sums in one order, run after run.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

export { tf };

/** Starts a backend and says which. */
export async function startTfjs(): Promise<string> {
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  for (const backend of ['wasm', 'cpu']) {
    try {
      if (await tf.setBackend(backend)) return backend;
    } catch (e) {
      console.warn(`tfjs backend ${backend} failed to start: ${(e as Error).message}`);
    }
  }
  throw new Error('neither the wasm nor the cpu backend of TensorFlow.js could start');
}
