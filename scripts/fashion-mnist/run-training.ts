/**
 * Trains the Fashion-MNIST MLP and CNN with TensorFlow.js, exports each to ONNX, and checks the
 * export: Tessera's CPU kernels and its reference must give tfjs' logits (≤ 1e-4) on the first
 * test images before anything is written. Writes the models and train-report.json.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { option, parseArgs, positiveInt } from '../../cli/args.js';
import { Session } from '../../core/session.js';
import { accuracy, collectLogits, maxAbsDiff, type Logits } from '../../datasets/evaluate.js';
import { HOLDOUT_SIZE, loadFashionMnist, slice, type ImageSet } from '../../datasets/fashion-mnist.js';
import { buildWasm } from '../build-wasm.mjs';
import { sequential } from './layers.js';
import { exportOnnx, RECIPES, type ModelName, type ModelRecipe } from './models.js';
import { mulberry32 } from './rng.js';
import { predict, train } from './train.js';
import { startTfjs, tf } from './tfjs.js';
import { MODEL_DIR } from './paths.js';

/** Export check: Tessera against tfjs on this many test images, within this bound. */
export const CHECK_IMAGES = 500;
export const CHECK_TOLERANCE = 1e-4;

export const percent = (x: number): number => Math.round(x * 10000) / 100;

export async function tesseraLogits(bytes: Uint8Array, backend: 'cpu' | 'reference', set: ImageSet): Promise<Logits> {
  const session = await Session.load(bytes, { backend, inputDims: { image: [100, 1, 28, 28] } });
  try {
    return await collectLogits(session, set.images, { batch: 100 });
  } finally {
    session.dispose();
  }
}

async function trainOne(name: ModelName, recipe: ModelRecipe, trainSet: ImageSet, test: ImageSet, outDir: string): Promise<Record<string, unknown>> {
  const model = sequential(mulberry32(recipe.seed), [28, 28, 1], recipe.layers);
  const params = model.variables.reduce((n, v) => n + v.size, 0);
  console.log(`${name}: ${recipe.description}, ${params} parameters, ${recipe.train.epochs} epochs of ${trainSet.count} images`);
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const epochs = train(model, trainSet, recipe.train, mulberry32(recipe.seed + 1000), (e) =>
    console.log(`  epoch ${e.epoch}: loss ${e.loss.toFixed(4)}, ${e.seconds.toFixed(1)} s`),
  );
  const trainSeconds = (performance.now() - t0) / 1000;
  // On a shared machine wall time says as much about the neighbours as about the training.
  const cpuUsed = process.cpuUsage(cpu0);
  const trainCpuSeconds = (cpuUsed.user + cpuUsed.system) / 1e6;
  const tfLogits = predict(model, test);
  const bytes = exportOnnx(model, recipe.description);
  for (const v of model.variables) v.dispose();

  const checked = slice(test, 0, CHECK_IMAGES);
  const cpu = await tesseraLogits(bytes, 'cpu', test);
  const reference = await tesseraLogits(bytes, 'reference', checked);
  const diff = { cpu: maxAbsDiff(tfLogits, cpu, CHECK_IMAGES), reference: maxAbsDiff(tfLogits, reference, CHECK_IMAGES) };
  if (!(diff.cpu <= CHECK_TOLERANCE && diff.reference <= CHECK_TOLERANCE)) {
    throw new Error(`${name}: the ONNX export disagrees with tfjs on the first ${CHECK_IMAGES} test images: max |Δlogit| cpu ${diff.cpu}, reference ${diff.reference} (bound ${CHECK_TOLERANCE})`);
  }
  const top1 = { tfjs: percent(accuracy(tfLogits, test.labels)), tesseraCpu: percent(accuracy(cpu, test.labels)) };
  console.log(`  ${trainSeconds.toFixed(0)} s (${trainCpuSeconds.toFixed(0)} s of CPU); test top-1 tfjs ${top1.tfjs}%, Tessera cpu ${top1.tesseraCpu}%; export max |Δlogit| cpu ${diff.cpu.toExponential(2)}, reference ${diff.reference.toExponential(2)}`);

  const file = join(outDir, `${name}.onnx`);
  writeFileSync(file, bytes);
  return {
    description: recipe.description,
    file: basename(file),
    bytes: bytes.byteLength,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    parameters: params,
    seed: recipe.seed,
    ...recipe.train,
    trainSeconds: Math.round(trainSeconds * 10) / 10,
    trainCpuSeconds: Math.round(trainCpuSeconds * 10) / 10,
    epochLog: epochs.map((e) => ({ ...e, loss: Math.round(e.loss * 1e4) / 1e4, seconds: Math.round(e.seconds * 10) / 10 })),
    testTop1: top1,
    exportCheck: { images: CHECK_IMAGES, maxAbsDiff: diff },
  };
}

/** `--out DIR` (default models/fashion-mnist), `--mlp-epochs N`, `--cnn-epochs N`. */
export async function main(argv: readonly string[]): Promise<void> {
  const args = parseArgs(argv, { out: { value: true }, 'mlp-epochs': { value: true }, 'cnn-epochs': { value: true } });
  const outDir = resolve(option(args, 'out') ?? MODEL_DIR);
  const epochs = (name: ModelName): number => {
    const v = option(args, `${name}-epochs`);
    return v === undefined ? RECIPES[name].train.epochs : positiveInt(v, `${name}-epochs`);
  };
  buildWasm({ quiet: true });
  const backend = await startTfjs();
  const trainSet = loadFashionMnist('train');
  const test = loadFashionMnist('test');
  console.log(`tfjs ${tf.version.tfjs} on its ${backend} backend; train ${trainSet.count} images (holdout ${HOLDOUT_SIZE} unused), test ${test.count}`);
  mkdirSync(outDir, { recursive: true });
  const t0 = performance.now();
  const models: Record<string, unknown> = {};
  for (const name of Object.keys(RECIPES) as ModelName[]) {
    const recipe = { ...RECIPES[name], train: { ...RECIPES[name].train, epochs: epochs(name) } };
    models[name] = await trainOne(name, recipe, trainSet, test, outDir);
  }
  const report = {
    dataset: {
      source: 'Debian dataset-fashion-mnist (/usr/share/datasets/fashion-mnist)',
      train: trainSet.count,
      holdout: HOLDOUT_SIZE,
      test: test.count,
      input: 'image float32 [batch, 1, 28, 28], pixel / 255',
    },
    tfjs: { version: tf.version.tfjs, backend },
    totalSeconds: Math.round((performance.now() - t0) / 100) / 10,
    models,
  };
  writeFileSync(join(outDir, 'train-report.json'), `${JSON.stringify(report, null, 2)}\n`);
  console.log(`wrote ${relative(process.cwd(), outDir) || '.'}/{${Object.keys(RECIPES).join(',')}}.onnx and train-report.json in ${report.totalSeconds} s`);
}
