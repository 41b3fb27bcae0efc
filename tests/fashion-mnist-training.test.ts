/**
 * The training side of the Fashion-MNIST workload, on a small untrained model so it runs in
 * seconds: the hand-written gradients of scripts/fashion-mnist/layers.ts (3x3 conv, 2x2 max pool:
 * there for tfjs' wasm backend) against tfjs' own on its cpu backend, and the ONNX export (OIHW
 * kernels, Dense rows permuted after an NHWC Flatten) against the tfjs forward, run by Tessera,
 * and its import back into the layers (how fine-tuning starts from a committed model).
 */
import type * as Tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadOnnx } from '../core/onnx/load-onnx.js';
import { Session } from '../core/session.js';
import { collectLogits, maxAbsDiff } from '../datasets/evaluate.js';
import { OnnxGraphWriter, sequential, type LayerSpec } from '../scripts/fashion-mnist/layers.js';
import { exportOnnx } from '../scripts/fashion-mnist/models.js';
import { mulberry32 } from '../scripts/fashion-mnist/rng.js';
import { tf } from '../scripts/fashion-mnist/tfjs.js';

/** Channels of 3 and 5 on a 28x28 input: odd counts, so an in/out mix-up in a layout shows. */
const LAYERS: readonly LayerSpec[] = [{ conv3x3: 3 }, 'relu', 'maxpool2', { conv3x3: 5 }, 'relu', 'maxpool2', 'flatten', { dense: 7 }, 'relu', { dense: 10 }];
const N = 6;

const images = (seed: number): Float32Array => {
  const rng = mulberry32(seed);
  return Float32Array.from({ length: N * 28 * 28 }, () => rng());
};

beforeAll(async () => {
  // The cpu backend has every gradient kernel, so tfjs' own gradients are there to compare with.
  expect(await tf.setBackend('cpu')).toBe(true);
});

describe('Fashion-MNIST training layers', () => {
  it("the custom conv and max-pool gradients equal tfjs' built-in ones", () => {
    const model = sequential(mulberry32(3), [28, 28, 1], LAYERS);
    const [k1, b1, k2, b2, w3, b3, w4, b4] = model.variables as Tf.Variable[];
    const builtin = (x: Tf.Tensor4D): Tf.Tensor2D => {
      const block = (h: Tf.Tensor4D, k: Tf.Tensor, b: Tf.Tensor): Tf.Tensor4D =>
        tf.maxPool(tf.relu(tf.add(tf.conv2d(h, k as Tf.Tensor4D, 1, 'same'), b)) as Tf.Tensor4D, 2, 2, 'valid');
      const flat = tf.reshape(block(block(x, k1!, b1!), k2!, b2!), [N, -1]) as Tf.Tensor2D;
      return tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(flat, w3 as Tf.Tensor2D), b3!)), w4 as Tf.Tensor2D), b4!);
    };
    const x = tf.tensor4d(images(4), [N, 28, 28, 1]);
    const labels = tf.oneHot(tf.tensor1d([0, 3, 9, 1, 5, 7], 'int32'), 10);
    const grads = (f: (x: Tf.Tensor4D) => Tf.Tensor2D): Float32Array[] => {
      const { grads: g } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(labels, f(x)) as Tf.Scalar, model.variables as Tf.Variable[]);
      return model.variables.map((v) => g[v.name]!.dataSync() as Float32Array);
    };
    const ours = grads((t) => model.apply(t));
    const theirs = grads(builtin);
    for (const [i, g] of ours.entries()) {
      const scale = Math.max(...theirs[i]!.map(Math.abs));
      expect(scale, `gradient ${i} is not all zero`).toBeGreaterThan(0);
      expect(maxAbsDiff({ count: 1, classes: g.length, data: g }, { count: 1, classes: g.length, data: theirs[i]! }), `gradient ${i}`).toBeLessThanOrEqual(1e-5 * scale);
    }
  });

  it('the ONNX export computes the tfjs forward (reference and cpu backends)', async () => {
    const model = sequential(mulberry32(5), [28, 28, 1], LAYERS);
    const input = images(6);
    const expected = { count: N, classes: 10, data: model.apply(tf.tensor4d(input, [N, 28, 28, 1])).dataSync() as Float32Array };
    const bytes = exportOnnx(model, 'test CNN');
    for (const backend of ['reference', 'cpu'] as const) {
      const session = await Session.load(bytes, { backend, inputDims: { image: [N, 1, 28, 28] } });
      try {
        expect(maxAbsDiff(await collectLogits(session, input, { batch: N }), expected), backend).toBeLessThanOrEqual(1e-5);
      } finally {
        session.dispose();
      }
    }
  });

  it('the export writes OIHW kernels and one Gemm per Dense', () => {
    const g = new OnnxGraphWriter();
    sequential(mulberry32(7), [28, 28, 1], LAYERS).exportOnnx(g, 'image', 'logits');
    expect(g.nodes.map((n) => n.op)).toEqual(['Conv', 'Relu', 'MaxPool', 'Conv', 'Relu', 'MaxPool', 'Flatten', 'Gemm', 'Relu', 'Gemm']);
    expect(Object.values(g.initializers).map((t) => t.dims)).toEqual([[3, 1, 3, 3], [3], [5, 3, 3, 3], [5], [245, 7], [7], [7, 10], [10]]);
    expect(g.nodes.at(-1)!.outputs).toEqual(['logits']);
  });

  it('the import loads an export back into every variable, undoing OIHW and the Flatten permutation', () => {
    const from = sequential(mulberry32(8), [28, 28, 1], LAYERS);
    const to = sequential(mulberry32(9), [28, 28, 1], LAYERS);
    to.importOnnx(loadOnnx(exportOnnx(from, 'test CNN')).graph, 'image', 'logits');
    from.variables.forEach((v, i) => {
      expect(to.variables[i]!.shape).toEqual(v.shape);
      expect(to.variables[i]!.dataSync(), `variable ${i}`).toEqual(v.dataSync());
    });
  });

  it('the import refuses a graph of other layers', () => {
    const graph = loadOnnx(exportOnnx(sequential(mulberry32(10), [28, 28, 1], LAYERS), 'test CNN')).graph;
    const wider = sequential(mulberry32(11), [28, 28, 1], LAYERS.map((l) => (typeof l === 'object' && 'dense' in l && l.dense === 7 ? { dense: 8 } : l)));
    expect(() => wider.importOnnx(graph, 'image', 'logits')).toThrow(/must be a float32 \[245, 8\] initializer, got float32 \[245, 7\]/);
    const shorter = sequential(mulberry32(12), [28, 28, 1], LAYERS.slice(0, -2));
    expect(() => shorter.importOnnx(graph, 'image', 'logits')).toThrow(/account for 8 of 10 nodes/);
  });
});
