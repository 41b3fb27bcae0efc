/**
 * Minibatch training of a Sequential with Adam on softmax cross-entropy, and its logits on a set:
 * the tfjs side of the Fashion-MNIST workload.
 */
import type * as Tf from '@tensorflow/tfjs';
import { IMAGE_SIZE, PIXELS, type ImageSet } from '../../datasets/fashion-mnist.js';
import type { Logits } from '../../datasets/evaluate.js';
import type { Sequential } from './layers.js';
import { shuffle, type Rng } from './rng.js';
import { tf } from './tfjs.js';

const CLASSES = 10;

export interface TrainConfig {
  readonly epochs: number;
  readonly batch: number;
  /** Adam's step size at the start; it follows a cosine down to 0 by the last step. */
  readonly learningRate: number;
}

/** Adam whose step size can change between steps (tfjs keeps it protected). */
class ScheduledAdam extends tf.AdamOptimizer {
  setLearningRate(lr: number): void {
    this.learningRate = lr;
  }
}

export interface EpochLog {
  readonly epoch: number;
  /** Mean training loss over the epoch's batches. */
  readonly loss: number;
  readonly seconds: number;
}

/** The images [start, start + n) of `order`, as an NHWC batch. */
function gather(set: ImageSet, order: Int32Array, start: number, n: number): { x: Float32Array; y: Int32Array } {
  const x = new Float32Array(n * PIXELS);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const s = order[start + i]!;
    x.set(set.images.subarray(s * PIXELS, (s + 1) * PIXELS), i * PIXELS);
    y[i] = set.labels[s]!;
  }
  return { x, y };
}

/** `afterStep` runs after every optimizer step (fine-tuning re-applies its sparsity masks there). */
export function train(model: Sequential, set: ImageSet, config: TrainConfig, rng: Rng, log: (e: EpochLog) => void, afterStep?: () => void): EpochLog[] {
  const optimizer = new ScheduledAdam(config.learningRate, 0.9, 0.999);
  const order = Int32Array.from({ length: set.count }, (_, i) => i);
  const epochs: EpochLog[] = [];
  const steps = config.epochs * Math.ceil(set.count / config.batch);
  let step = 0;
  for (let epoch = 1; epoch <= config.epochs; epoch++) {
    const t0 = performance.now();
    shuffle(rng, order);
    let lossSum = 0;
    let batches = 0;
    for (let start = 0; start < set.count; start += config.batch) {
      const n = Math.min(config.batch, set.count - start);
      const { x, y } = gather(set, order, start, n);
      optimizer.setLearningRate((config.learningRate * (1 + Math.cos((Math.PI * step++) / steps))) / 2);
      const loss = tf.tidy(() => {
        const images = tf.tensor4d(x, [n, IMAGE_SIZE, IMAGE_SIZE, 1]);
        const labels = tf.oneHot(tf.tensor1d(y, 'int32'), CLASSES);
        // returnCost = true: minimize returns the loss, never null.
        return optimizer.minimize(() => tf.losses.softmaxCrossEntropy(labels, model.apply(images)) as Tf.Scalar, true, model.variables as Tf.Variable[])!;
      });
      afterStep?.();
      lossSum += loss.dataSync()[0]!;
      loss.dispose();
      batches++;
    }
    const e = { epoch, loss: lossSum / batches, seconds: (performance.now() - t0) / 1000 };
    epochs.push(e);
    log(e);
  }
  optimizer.dispose();
  return epochs;
}

/** The model's logits for every image of the set, a chunk at a time. */
export function predict(model: Sequential, set: ImageSet, chunk = 500): Logits {
  const data = new Float32Array(set.count * CLASSES);
  for (let start = 0; start < set.count; start += chunk) {
    const n = Math.min(chunk, set.count - start);
    const out = tf.tidy(() => model.apply(tf.tensor4d(set.images.subarray(start * PIXELS, (start + n) * PIXELS), [n, IMAGE_SIZE, IMAGE_SIZE, 1])).dataSync());
    data.set(out as Float32Array, start * CLASSES);
  }
  return { count: set.count, classes: CLASSES, data };
}
