/**
 * A bundle runs in a Session on each backend with kernels of its own and answers exactly as the
 * ONNX model it was packed from; a bad or unsigned bundle is refused before any GPU work is made.
 */
import { describe, expect, it } from 'vitest';
import { BundleError } from '../errors.js';
import { Session, type SessionOptions } from '../session.js';
import type { Tensor } from '../tensor.js';
import { KERNEL_BACKENDS, randomTensor, testDevice } from '../../kernels/testing/harness.js';
import { bundleCode, ifModelOnnx, keyPair, META } from '../../tests/support/bundle-fixtures.js';
import { countingDevice } from '../../tests/support/counting-device.js';
import { denseReluModel } from '../../tests/support/onnx-builder.js';
import { packModel, signBundle, withSignature } from './index.js';

const on = async (backend: (typeof KERNEL_BACKENDS)[number]): Promise<SessionOptions> =>
  backend === 'webgpu' ? { backend, device: (await testDevice()).device } : { backend };

async function outputs(source: Uint8Array, options: SessionOptions, feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
  const session = await Session.load(source, options);
  try {
    expect(session.report().backend).toBe(options.backend);
    return await session.run(feeds);
  } finally {
    session.dispose();
  }
}

/** Bit for bit: the same weights through the same kernels. */
function expectIdentical(a: Record<string, Tensor>, b: Record<string, Tensor>): void {
  expect(Object.keys(a)).toEqual(Object.keys(b));
  for (const [name, t] of Object.entries(a)) {
    expect(t.dims, name).toEqual(b[name]!.dims);
    expect(Array.from(t.data), name).toEqual(Array.from(b[name]!.data));
  }
}

for (const backend of KERNEL_BACKENDS) {
  describe(`bundles in a Session on ${backend}`, () => {
    it('a dense model with a symbolic batch answers as its ONNX does', async () => {
      const onnx = denseReluModel();
      const { bytes } = await packModel(onnx, META);
      const feeds = { x: randomTensor('float32', [3, 4], 5) };
      const options = { ...(await on(backend)), inputDims: { x: [3, 4] } };
      const fromBundle = await outputs(bytes, options, feeds);
      expectIdentical(fromBundle, await outputs(onnx, options, feeds));
      expect(fromBundle.y!.data.some((v) => v !== 0)).toBe(true);
    });

    it('an If on a run-time condition, each side taken, answers as its ONNX does', async () => {
      const onnx = ifModelOnnx();
      const { bytes } = await packModel(onnx, META);
      const options = await on(backend);
      const results: number[][] = [];
      for (const sign of [1, -1]) {
        const feeds = { x: randomTensor('float32', [2, 3], 9, sign > 0 ? [0.1, 1] : [-1, -0.1]) };
        const fromBundle = await outputs(bytes, options, feeds);
        expectIdentical(fromBundle, await outputs(onnx, options, feeds));
        results.push(Array.from(fromBundle.y!.data));
      }
      // The then side ends in a Relu, the else side does not: each run took its own branch.
      expect(results[0]!.every((v) => v >= 0)).toBe(true);
      expect(results[1]!.some((v) => v < 0)).toBe(true);
    });

    it('the signature options reach the bundle reader', async () => {
      const keys = await keyPair();
      const { bytes } = await packModel(denseReluModel(), META);
      const signed = withSignature(bytes, await signBundle(bytes, keys.privateKey));
      const options = { ...(await on(backend)), inputDims: { x: [1, 4] }, publicKey: keys.publicKey, requireSignature: true };
      expect(await bundleCode(Session.load(bytes, options))).toBe('SIGNATURE_REQUIRED');
      const session = await Session.load(signed, options);
      session.dispose();
    });
  });
}

describe('a bad bundle never reaches the GPU', () => {
  it('corrupt or unsigned: refused with a BundleError before a single buffer is created', async () => {
    const counted = countingDevice((await testDevice()).device);
    const { bytes } = await packModel(denseReluModel(), META);
    const corrupt = bytes.slice();
    corrupt[corrupt.byteLength - 40]! ^= 1;
    const keys = await keyPair();
    for (const [source, extra] of [[corrupt, {}], [bytes, { publicKey: keys.publicKey, requireSignature: true }]] as const) {
      await expect(Session.load(source, { backend: 'webgpu', device: counted.device, ...extra })).rejects.toBeInstanceOf(BundleError);
    }
    expect(counted.created()).toBe(0);
  });
});
