/**
 * The two Fashion-MNIST classifiers the project trains, and how each is written to ONNX: input
 * `image` float32 [batch, 1, 28, 28] (pixel / 255, as datasets/fashion-mnist.ts gives it), output
 * `logits` float32 [batch, 10], opset 17.
 */
import { encodeModel } from '../../core/onnx/write-onnx.js';
import { IMAGE_SIZE } from '../../datasets/fashion-mnist.js';
import { OnnxGraphWriter, type LayerSpec, type Sequential } from './layers.js';
import type { TrainConfig } from './train.js';

export interface ModelRecipe {
  readonly description: string;
  readonly layers: readonly LayerSpec[];
  readonly seed: number;
  readonly train: TrainConfig;
  /**
   * Fine-tuning of the trained model with its dense layers pruned 2:4 (scripts/finetune-fashion-mnist.ts):
   * a short run at a fraction of the training step size, so the kept weights move to make up for
   * the pruned ones without forgetting what the model learned.
   */
  readonly finetune: TrainConfig;
}

export type ModelName = 'mlp' | 'cnn';

export const RECIPES: Readonly<Record<ModelName, ModelRecipe>> = {
  mlp: {
    description: 'MLP 784-256-128-10, ReLU',
    layers: ['flatten', { dense: 256 }, 'relu', { dense: 128 }, 'relu', { dense: 10 }],
    seed: 1,
    train: { epochs: 6, batch: 128, learningRate: 1e-3 },
    finetune: { epochs: 2, batch: 128, learningRate: 2e-4 },
  },
  cnn: {
    description: 'CNN conv3x3 1→16, ReLU, maxpool 2, conv3x3 16→32, ReLU, maxpool 2, dense 1568→64, ReLU, dense 64→10',
    layers: [{ conv3x3: 16 }, 'relu', 'maxpool2', { conv3x3: 32 }, 'relu', 'maxpool2', 'flatten', { dense: 64 }, 'relu', { dense: 10 }],
    seed: 2,
    train: { epochs: 5, batch: 128, learningRate: 1e-3 },
    finetune: { epochs: 2, batch: 128, learningRate: 2e-4 },
  },
};

export const INPUT = 'image';
export const OUTPUT = 'logits';

export function exportOnnx(model: Sequential, description: string, producer = 'tessera scripts/train-fashion-mnist.ts'): Uint8Array {
  const g = new OnnxGraphWriter();
  model.exportOnnx(g, INPUT, OUTPUT);
  return encodeModel(
    {
      inputs: [{ name: INPUT, dtype: 'float32', dims: ['batch', 1, IMAGE_SIZE, IMAGE_SIZE] }],
      outputs: [{ name: OUTPUT, dtype: 'float32', dims: ['batch', 10] }],
      nodes: g.nodes,
      initializers: g.initializers,
    },
    { opset: 17, producer, docString: `Fashion-MNIST ${description}. Input: pixel / 255, NCHW.` },
  );
}
