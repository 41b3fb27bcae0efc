/**
 * 2:4 sparse fine-tuning of the committed Fashion-MNIST models: each ONNX model is loaded back into
 * the tfjs Sequential of its recipe (checked against Tessera on the same file), its dense layers
 * are pruned 2:4 along K, and it trains a little longer on the training split with the pruned
 * weights held at 0. Writes {mlp,cnn}-2x4.onnx, the float source of the '2:4+int8' variant
 * (variants.ts), and finetune-report.json.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type * as Tf from '@tensorflow/tfjs';
import { option, parseArgs } from '../../cli/args.js';
import { findWeightLayers } from '../../core/compress/layers.js';
import { groupsDenserThan2of4, pruneModel } from '../../core/compress/prune.js';
import { loadOnnx } from '../../core/onnx/load-onnx.js';
import { accuracy, maxAbsDiff, type Logits } from '../../datasets/evaluate.js';
import { HOLDOUT_SIZE, loadFashionMnist, slice, type ImageSet } from '../../datasets/fashion-mnist.js';
import { buildWasm } from '../build-wasm.mjs';
import { sequential, type Sequential } from './layers.js';
import { exportOnnx, INPUT, OUTPUT, RECIPES, type ModelName, type ModelRecipe } from './models.js';
import { mulberry32 } from './rng.js';
import { MODEL_DIR } from './paths.js';
import { CHECK_IMAGES, CHECK_TOLERANCE, percent, tesseraLogits } from './run-training.js';
import { predict, train } from './train.js';
import { startTfjs, tf } from './tfjs.js';

const PRODUCER = 'tessera scripts/finetune-fashion-mnist.ts';
/** Shuffling seed offset: training used recipe seed + 1000, fine-tuning draws its own order. */
const SHUFFLE_SEED = 2000;

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** Refuses logits of Tessera that differ from tfjs' by more than the export bound on the first test images. */
function agree(name: string, what: string, tfjs: Logits, tessera: Logits): number {
  const diff = maxAbsDiff(tfjs, tessera, CHECK_IMAGES);
  if (!(diff <= CHECK_TOLERANCE)) {
    throw new Error(`${name}: ${what}: tfjs and Tessera cpu disagree on the first ${CHECK_IMAGES} test images, max |Δlogit| ${diff} (bound ${CHECK_TOLERANCE})`);
  }
  return diff;
}

/** Test top-1 of the tfjs model and of its ONNX export on Tessera's CPU kernels, which must agree. */
async function measure(name: string, what: string, model: Sequential, description: string, test: ImageSet) {
  const tfLogits = predict(model, test);
  const bytes = exportOnnx(model, description, PRODUCER);
  const cpu = await tesseraLogits(bytes, 'cpu', test);
  const diff = agree(name, `${what} export`, tfLogits, cpu);
  return { bytes, top1: { tfjs: percent(accuracy(tfLogits, test.labels)), tesseraCpu: percent(accuracy(cpu, test.labels)) }, maxAbsDiff: diff };
}

async function finetuneOne(name: ModelName, recipe: ModelRecipe, trainSet: ImageSet, test: ImageSet, outDir: string): Promise<Record<string, unknown>> {
  const sourceBytes = new Uint8Array(readFileSync(join(MODEL_DIR, `${name}.onnx`)));
  const source = loadOnnx(sourceBytes);
  // The initial weights are overwritten by the import; the generator only fills them first.
  const model = sequential(mulberry32(recipe.seed), [28, 28, 1], recipe.layers);
  model.importOnnx(source.graph, INPUT, OUTPUT);
  const checked = slice(test, 0, CHECK_IMAGES);
  const importDiff = agree(name, `the import of ${name}.onnx`, predict(model, checked), await tesseraLogits(sourceBytes, 'cpu', checked));

  // The compressor's own pruning (dense layers only, convolutions stay dense) on the ONNX graph,
  // where the [N, K] view and its K order are the kernel's; loading it back carries the Flatten
  // permutation over to the tfjs rows for free.
  const pruned = pruneModel(source, '2:4');
  model.importOnnx(pruned.model.graph, INPUT, OUTPUT);
  // The dense kernels are the rank-2 variables. A kept weight that happens to be exactly 0 is held
  // at 0 too, which leaves the layer no less 2:4.
  const masks = model.variables.filter((v) => v.rank === 2).map((v) => ({ v, keep: tf.tidy(() => tf.cast(tf.notEqual(v, 0), 'float32')) }));
  const reapply = (): void => tf.tidy(() => masks.forEach(({ v, keep }) => v.assign(tf.mul(v, keep) as Tf.Tensor)));
  const description = `${recipe.description}; dense layers 2:4 sparse, fine-tuned`;
  const before = await measure(name, 'pruned', model, description, test);
  console.log(`${name}: dense layers pruned 2:4 (${pruned.report.layers.map((l) => `${l.node} ${l.n}x${l.k}`).join(', ')}); test top-1 tfjs ${before.top1.tfjs}%, Tessera cpu ${before.top1.tesseraCpu}%`);

  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const epochs = train(model, trainSet, recipe.finetune, mulberry32(recipe.seed + SHUFFLE_SEED), (e) =>
    console.log(`  epoch ${e.epoch}: loss ${e.loss.toFixed(4)}, ${e.seconds.toFixed(1)} s`), reapply);
  const seconds = (performance.now() - t0) / 1000;
  const cpuUsed = process.cpuUsage(cpu0);
  const after = await measure(name, 'fine-tuned', model, description, test);
  for (const v of model.variables) v.dispose();
  for (const { keep } of masks) keep.dispose();

  const written = findWeightLayers(loadOnnx(after.bytes).graph).filter((l) => l.kind === 'dense');
  const notSparse = written.filter((l) => groupsDenserThan2of4(l.weights, l.n, l.k) > 0).map((l) => l.node.name);
  if (written.length !== pruned.report.layers.length || notSparse.length) {
    throw new Error(`${name}: the fine-tuned export is not 2:4 in every dense layer (${written.length} found, ${pruned.report.layers.length} pruned; dense groups in: ${notSparse.join(', ') || 'none'})`);
  }
  console.log(`  ${seconds.toFixed(0)} s (${((cpuUsed.user + cpuUsed.system) / 1e6).toFixed(0)} s of CPU); test top-1 tfjs ${after.top1.tfjs}%, Tessera cpu ${after.top1.tesseraCpu}%`);

  const file = `${name}-2x4.onnx`;
  writeFileSync(join(outDir, file), after.bytes);
  return {
    description,
    source: { file: `${name}.onnx`, sha256: sha256(sourceBytes) },
    file,
    bytes: after.bytes.byteLength,
    sha256: sha256(after.bytes),
    pruned: pruned.report.layers,
    shuffleSeed: recipe.seed + SHUFFLE_SEED,
    ...recipe.finetune,
    seconds: Math.round(seconds * 10) / 10,
    cpuSeconds: Math.round((cpuUsed.user + cpuUsed.system) / 1e5) / 10,
    epochLog: epochs.map((e) => ({ ...e, loss: Math.round(e.loss * 1e4) / 1e4, seconds: Math.round(e.seconds * 10) / 10 })),
    testTop1: { pruned: before.top1, fineTuned: after.top1 },
    checks: { images: CHECK_IMAGES, importMaxAbsDiff: importDiff, prunedExportMaxAbsDiff: before.maxAbsDiff, exportMaxAbsDiff: after.maxAbsDiff },
  };
}

/** `--out DIR` (default models/fashion-mnist; the source models are always read from there). */
export async function main(argv: readonly string[]): Promise<void> {
  const args = parseArgs(argv, { out: { value: true } });
  const outDir = resolve(option(args, 'out') ?? MODEL_DIR);
  buildWasm({ quiet: true });
  const backend = await startTfjs();
  const trainSet = loadFashionMnist('train');
  const test = loadFashionMnist('test');
  console.log(`tfjs ${tf.version.tfjs} on its ${backend} backend; fine-tuning on train ${trainSet.count} images (holdout ${HOLDOUT_SIZE} unused), test ${test.count}`);
  mkdirSync(outDir, { recursive: true });
  const t0 = performance.now();
  const models: Record<string, unknown> = {};
  for (const name of Object.keys(RECIPES) as ModelName[]) models[name] = await finetuneOne(name, RECIPES[name], trainSet, test, outDir);
  const report = {
    sparsity: '2:4 along K per output channel in every dense (Gemm) layer, magnitude-pruned from the trained model; convolutions dense',
    tfjs: { version: tf.version.tfjs, backend },
    totalSeconds: Math.round((performance.now() - t0) / 100) / 10,
    models,
  };
  writeFileSync(join(outDir, 'finetune-report.json'), `${JSON.stringify(report, null, 2)}\n`);
  console.log(`wrote ${relative(process.cwd(), outDir) || '.'}/{${Object.keys(RECIPES).join(',')}}-2x4.onnx and finetune-report.json in ${report.totalSeconds} s`);
}
