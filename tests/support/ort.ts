/**
 * onnxruntime-web as the oracle for whole models. In Node the package's `node` export condition
 * resolves to its Node build, which loads the wasm binary from its own dist folder (no network);
 * the plain wasm execution provider with one thread keeps it deterministic and worker-free.
 */
import * as ort from 'onnxruntime-web';
import type { Tensor } from '../../core/tensor.js';

ort.env.wasm.numThreads = 1;
ort.env.wasm.proxy = false;
ort.env.logLevel = 'error';

function toOrt(t: Tensor): ort.Tensor {
  switch (t.dtype) {
    case 'float32': return new ort.Tensor('float32', Float32Array.from(t.data), [...t.dims]);
    case 'int32': return new ort.Tensor('int32', Int32Array.from(t.data), [...t.dims]);
    case 'int64': return new ort.Tensor('int64', BigInt64Array.from(t.data, (v) => BigInt(v)), [...t.dims]);
    case 'bool': return new ort.Tensor('bool', Uint8Array.from(t.data), [...t.dims]);
  }
}

function fromOrt(t: ort.Tensor): Tensor {
  const dims = [...t.dims];
  switch (t.type) {
    case 'float32': return { dtype: 'float32', dims, data: Float32Array.from(t.data as Float32Array) };
    case 'int32': return { dtype: 'int32', dims, data: Int32Array.from(t.data as Int32Array) };
    // Tessera narrows int64 to int32; the oracle's values are narrowed the same way to compare.
    case 'int64': return { dtype: 'int64', dims, data: Int32Array.from(t.data as BigInt64Array, (v) => Number(v)) };
    case 'bool': return { dtype: 'bool', dims, data: Uint8Array.from(t.data as Uint8Array) };
    default: throw new Error(`onnxruntime-web returned a ${t.type} tensor, which the tests do not compare`);
  }
}

export interface OrtModel {
  run(feeds: Readonly<Record<string, Tensor>>): Promise<Record<string, Tensor>>;
  release(): Promise<void>;
}

export async function ortModel(bytes: Uint8Array): Promise<OrtModel> {
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  return {
    async run(feeds) {
      const out = await session.run(Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, toOrt(t)])));
      return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, fromOrt(t)]));
    },
    release: () => session.release(),
  };
}
