import { describe, expect, it } from 'vitest';
import { buildModel } from '../tests/support/onnx-builder.js';
import { Session } from './session.js';
import { tensor } from './tensor.js';

describe('Session on the CPU backend', () => {
  // Relu over a symbolic batch: each new batch size plans a bucket asynchronously, while runs of a
  // known size take the synchronous path; answers must still match their own requests.
  const model = buildModel({
    inputs: [{ name: 'x', dtype: 'float32', dims: ['batch', 3] }],
    outputs: [{ name: 'y', dtype: 'float32', dims: ['batch', 3] }],
    nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }],
  });

  it('answers concurrent runs of changing shapes each with its own result', async () => {
    const session = await Session.load(model, { backend: 'cpu' });
    try {
      const inputs = Array.from({ length: 24 }, (_, i) => {
        const batch = 1 + (i % 4);
        return tensor('float32', [batch, 3], Array.from({ length: batch * 3 }, (_, j) => (j % 2 ? -1 : 1) * (i * 10 + j)));
      });
      const outputs = await Promise.all(inputs.map((x) => session.run({ x })));
      outputs.forEach((out, i) => {
        expect(out.y!.dims).toEqual(inputs[i]!.dims);
        expect(Array.from(out.y!.data)).toEqual(Array.from(inputs[i]!.data, (v) => Math.max(v, 0)));
      });
      // Back-to-back runs of one shape (the synchronous path) return copies, not views of memory:
      // the second run leaves the first one's answer as it was.
      const a = await session.run({ x: inputs[0]! });
      await session.run({ x: inputs[4]! });
      expect(Array.from(a.y!.data)).toEqual(Array.from(inputs[0]!.data, (v) => Math.max(v, 0)));
    } finally {
      session.dispose();
    }
  });
});
