/**
 * The committed 2:4 fine-tuned Fashion-MNIST models (scripts/finetune-fashion-mnist.ts): every Gemm
 * holds at most 2 nonzeros in each group of 4 along K (what the 2:4+int8 variant's kernel keeps, so
 * quantizing them prunes nothing more), the convolutions are left dense, and Tessera's CPU kernels
 * reach the top-1 the fine-tune report claims.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { findWeightLayers } from '../core/compress/layers.js';
import { groupsDenserThan2of4 } from '../core/compress/prune.js';
import { loadOnnx } from '../core/onnx/load-onnx.js';
import { Session } from '../core/session.js';
import { accuracy, collectLogits } from '../datasets/evaluate.js';
import { loadFashionMnist, slice } from '../datasets/fashion-mnist.js';

const MODEL_DIR = new URL('../models/fashion-mnist/', import.meta.url);
const IMAGES = 1000;
/** The report's top-1 is over all 10k test images; the first 1000 may sit a little below it. */
const MARGIN_POINTS = 2;

interface FinetuneReport {
  readonly models: Readonly<Record<string, { readonly testTop1: { readonly fineTuned: { readonly tesseraCpu: number } } }>>;
}
const report = JSON.parse(readFileSync(new URL('finetune-report.json', MODEL_DIR), 'utf8')) as FinetuneReport;
const test = slice(loadFashionMnist('test'), 0, IMAGES);

describe.each(['mlp', 'cnn'])('Fashion-MNIST %s-2x4', (name) => {
  const bytes = new Uint8Array(readFileSync(new URL(`${name}-2x4.onnx`, MODEL_DIR)));
  const graph = loadOnnx(bytes).graph;

  it('every Gemm is 2:4 along K and half zeros; the convolutions are not pruned', () => {
    const layers = findWeightLayers(graph);
    const dense = layers.filter((l) => l.kind === 'dense');
    expect(dense.map((l) => l.node.opType)).toEqual(graph.nodes.filter((n) => n.opType === 'Gemm').map((n) => n.opType));
    for (const l of dense) {
      expect(groupsDenserThan2of4(l.weights, l.n, l.k), l.node.name).toBe(0);
      // K is a multiple of 4 in both models, so exactly half of each 2:4 layer is zero.
      expect(l.weights.filter((v) => v === 0).length, l.node.name).toBe((l.n * l.k) / 2);
    }
    for (const l of layers.filter((c) => c.kind === 'conv')) expect(groupsDenserThan2of4(l.weights, l.n, l.k), l.node.name).toBeGreaterThan(0);
  });

  it(`cpu: top-1 on the first ${IMAGES} test images within ${MARGIN_POINTS} points of the report`, async () => {
    const session = await Session.load(bytes, { backend: 'cpu', inputDims: { image: [100, 1, 28, 28] } });
    try {
      const logits = await collectLogits(session, test.images, { batch: 100 });
      expect(accuracy(logits, test.labels) * 100).toBeGreaterThanOrEqual(report.models[name]!.testTop1.fineTuned.tesseraCpu - MARGIN_POINTS);
    } finally {
      session.dispose();
    }
  });
});
