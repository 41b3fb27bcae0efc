/**
 * The compressed forms of the Fashion-MNIST classifiers, made the one way both the accuracy report
 * (scripts/compress-fashion-mnist.ts) and the bench (bench/compression.ts) use: int8 with scales
 * calibrated on held-out training images (never the test set), int4 block weights, and 2:4 + int8
 * from the 2:4-pruned, fine-tuned float model when the training script has written one.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Feeds } from '../../core/compress/evaluate.js';
import { compress, type CompressRecipe, type CompressionReport, type Evaluation } from '../../core/compress/pipeline.js';
import type { Backend } from '../../core/session.js';
import { loadFashionMnist, slice, type ImageSet } from '../../datasets/fashion-mnist.js';
import { MODEL_DIR } from './paths.js';


export const MODELS = ['mlp', 'cnn'] as const;
export type FashionModel = (typeof MODELS)[number];

export const VARIANTS = ['fp32', 'int8', 'int4', '2:4+int8'] as const;
export type Variant = (typeof VARIANTS)[number];

const RECIPES: Readonly<Record<Exclude<Variant, 'fp32'>, CompressRecipe>> = {
  int8: { weights: 'int8', activations: 'static' },
  int4: { weights: 'int4', activations: 'static' },
  '2:4+int8': { weights: 'int8', sparsity: '2:4', activations: 'static' },
};

const INPUT = 'image';
const CALIBRATION_IMAGES = 512;

/** `count` images from `set` as feeds of `batch` images each. */
export function imageFeeds(set: ImageSet, count = set.count, batch = 100): Feeds[] {
  const feeds: Feeds[] = [];
  for (let s = 0; s < count; s += batch) {
    const b = Math.min(batch, count - s);
    feeds.push({ [INPUT]: { dtype: 'float32', dims: [b, 1, 28, 28], data: slice(set, s, s + b).images } });
  }
  return feeds;
}

export const modelPath = (model: FashionModel, suffix = ''): string => join(MODEL_DIR, `${model}${suffix}.onnx`);

/** The float model a variant starts from: the 2:4 one from its fine-tuned float twin when present. */
export function sourceOf(model: FashionModel, variant: Variant): { path: string; fineTuned: boolean } {
  const tuned = modelPath(model, '-2x4');
  if (variant === '2:4+int8' && existsSync(tuned)) return { path: tuned, fineTuned: true };
  return { path: modelPath(model), fineTuned: false };
}

export interface BuiltVariant {
  readonly bytes: Uint8Array;
  readonly report?: CompressionReport;
  readonly fineTuned: boolean;
}

/**
 * One variant's bytes (ONNX for fp32, else a bundle), and with `evaluate` its report against the
 * float model it came from on the test set (`testImages` of them) on `backends`.
 */
export async function buildVariant(
  model: FashionModel,
  variant: Variant,
  { evaluate = false, testImages = 10000, backends = ['cpu'] as readonly Backend[] } = {},
): Promise<BuiltVariant> {
  const { path, fineTuned } = sourceOf(model, variant);
  const source = new Uint8Array(readFileSync(path));
  if (variant === 'fp32') return { bytes: source, fineTuned };
  const test = loadFashionMnist('test');
  const evaluation: Evaluation | undefined = evaluate
    ? { batches: imageFeeds(test, testImages), labels: test.labels, latencyFeeds: imageFeeds(test, 1, 1)[0]! }
    : undefined;
  const { bundle, report } = await compress({
    source, sourceBytes: readFileSync(modelPath(model)).byteLength, recipe: RECIPES[variant], name: `fashion-mnist-${model}`,
    calibration: imageFeeds(loadFashionMnist('holdout'), CALIBRATION_IMAGES, 64), evaluation, backends,
  });
  return { bytes: bundle, report, fineTuned };
}
