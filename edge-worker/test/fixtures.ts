import { buildModel } from '../../tests/support/onnx-builder.js';
import { randomInput } from '../../bench/models.js';
import { packModel } from '../../core/bundle/write.js';
import { quantizeModel } from '../../core/compress/quantize.js';
import { loadOnnx } from '../../core/onnx/load-onnx.js';

/**
 * Models the worker test serves, written by the project's own ONNX builder so the test needs no
 * download: a wake-word head of openWakeWord's shape (16 embedding frames × 96 → Gemm → Relu →
 * Gemm → Sigmoid), a views-only model, and two models the worker must refuse.
 */

const FRAMES = 16;
const FEATURES = 96;
const HIDDEN = 64;

/** Weights scaled by 1/√fan-in so the sigmoid is not saturated and a wrong kernel shows. */
function weights(dims: readonly number[], fanIn: number, seed: number): { dtype: 'float32'; dims: readonly number[]; data: Float32Array } {
  const { data } = randomInput('w', dims, seed);
  const scale = 1 / Math.sqrt(fanIn);
  return { dtype: 'float32', dims, data: data.map((v) => v * scale) };
}

export const WAKE_INPUT = 'embeddings';

export function wakeWordHead(): Uint8Array {
  return buildModel({
    inputs: [{ name: WAKE_INPUT, dtype: 'float32', dims: [1, FRAMES, FEATURES] }],
    outputs: [{ name: 'score', dtype: 'float32', dims: [1, 1] }],
    initializers: {
      w1: weights([HIDDEN, FRAMES * FEATURES], FRAMES * FEATURES, 11),
      b1: weights([HIDDEN], HIDDEN, 12),
      w2: weights([1, HIDDEN], HIDDEN, 13),
      b2: weights([1], 1, 14),
    },
    nodes: [
      { op: 'Flatten', inputs: [WAKE_INPUT], outputs: ['flat'], attrs: { axis: 1 } },
      { op: 'Gemm', inputs: ['flat', 'w1', 'b1'], outputs: ['h'], attrs: { transB: 1 } },
      { op: 'Relu', inputs: ['h'], outputs: ['hr'] },
      { op: 'Gemm', inputs: ['hr', 'w2', 'b2'], outputs: ['logit'], attrs: { transB: 1 } },
      { op: 'Sigmoid', inputs: ['logit'], outputs: ['score'] },
    ],
  });
}

export const wakeInput = () => randomInput(WAKE_INPUT, [1, FRAMES, FEATURES], 99);

/** Reshape only: runs on the CPU backend with no compiled kernel at all. */
export function reshapeModel(): Uint8Array {
  return buildModel({
    inputs: [{ name: 'x', dtype: 'float32', dims: [2, 3] }],
    outputs: [{ name: 'y', dtype: 'float32', dims: [3, 2] }],
    initializers: { shape: { dtype: 'int64', dims: [2], data: Int32Array.of(3, 2) } },
    nodes: [{ op: 'Reshape', inputs: ['x', 'shape'], outputs: ['y'] }],
  });
}

/** An operator from a domain no backend knows. */
export function unsupportedModel(): Uint8Array {
  return buildModel(
    {
      inputs: [{ name: 'x', dtype: 'float32', dims: [4] }],
      outputs: [{ name: 'y', dtype: 'float32', dims: [4] }],
      nodes: [{ op: 'Frobnicate', domain: 'com.example', inputs: ['x'], outputs: ['y'] }],
    },
    17,
    ['com.example'],
  );
}

/** A tiny file whose one activation (Expand to 48 M floats, 192 MiB) cannot fit in a Worker's 128 MB. */
export function hugeActivationModel(): Uint8Array {
  return buildModel({
    inputs: [{ name: 'x', dtype: 'float32', dims: [1] }],
    outputs: [{ name: 'y', dtype: 'float32', dims: [48_000_000] }],
    initializers: { shape: { dtype: 'int64', dims: [1], data: Int32Array.of(48_000_000) } },
    nodes: [{ op: 'Expand', inputs: ['x', 'shape'], outputs: ['y'] }],
  });
}

/** Relu over a symbolic batch: each batch size a client sends needs its own CPU plan. */
export function batchReluModel(): Uint8Array {
  return buildModel({
    inputs: [{ name: 'x', dtype: 'float32', dims: ['batch', 3] }],
    outputs: [{ name: 'y', dtype: 'float32', dims: ['batch', 3] }],
    nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }],
  });
}

/** The wake-word head with int8 weights (QMatMul, dynamic activation scales), as a signed-less bundle. */
export async function wakeWordHeadInt8(): Promise<Uint8Array> {
  const { model } = quantizeModel(loadOnnx(wakeWordHead()), { weights: 'int8', activations: { kind: 'dynamic' } });
  return (await packModel(model, { model: { id: 'wake-int8', name: 'wake-int8', version: 1 } })).bytes;
}

/**
 * The float wake-word head as a bundle (about 400 KB, so workerd checks its digests through
 * DigestStream in chunks), and a copy with one weight byte flipped, which must be refused.
 */
export async function wakeWordHeadBundles(): Promise<{ intact: Uint8Array; corrupt: Uint8Array }> {
  const intact = (await packModel(loadOnnx(wakeWordHead()), { model: { id: 'wake-bundle', name: 'wake-bundle', version: 1 } })).bytes;
  const corrupt = intact.slice();
  corrupt[corrupt.length >> 1]! ^= 0x40;
  return { intact, corrupt };
}
