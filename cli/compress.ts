import { readFileSync, writeFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import type { CalibrationMethod } from '../core/compress/calibrate.js';
import type { Feeds } from '../core/compress/evaluate.js';
import { compress, type CompressRecipe, type CompressionReport } from '../core/compress/pipeline.js';
import type { Sparsity } from '../core/compress/prune.js';
import { loadModel } from '../core/load-model.js';
import type { Backend } from '../core/session.js';
import { sizeOf, type Tensor } from '../core/tensor.js';
import { option, positiveInt, UsageError, type Parsed } from './args.js';
import { fmtBytes, out, readModel, slug } from './common.js';
import { readNpy } from './npy.js';

/**
 * `tessera quantize` and `tessera prune`: compress a model into a bundle and report size,
 * parameters, latency on each backend and accuracy against the float model on held-out data.
 * Sample files are .npy arrays for a single-input model, samples along the first axis; with
 * --labels (one integer per sample) the report has top-1.
 */

/** Splits [S, ...] into feeds of `batch` samples each, shaped like the model's input (rank kept). */
/** Feeds of `batch` samples each, over the first `limit` samples (all by default). */
function batchesOf(samples: Tensor, inputName: string, inputRank: number, batch: number, limit = samples.dims[0]!): Feeds[] {
  const [count, ...rest] = samples.dims;
  // A file of single samples without the batch axis ([S, 784] for input [batch, 784] has it; [S, 28, 28] for [batch, 1, 28, 28] does not).
  const sampleDims = rest.length === inputRank ? rest.slice(1) : rest;
  if (sampleDims.length !== inputRank - 1) throw new UsageError(`samples of dims [${samples.dims.join(', ')}] do not fit input "${inputName}" of rank ${inputRank}`);
  const per = sizeOf(sampleDims);
  const feeds: Feeds[] = [];
  const end = Math.min(count!, limit);
  for (let s = 0; s < end; s += batch) {
    const b = Math.min(batch, end - s);
    const data = samples.data.slice(s * per, (s + b) * per);
    feeds.push({ [inputName]: { dtype: samples.dtype, dims: [b, ...sampleDims], data } });
  }
  return feeds;
}

function readSamples(path: string): Tensor {
  try {
    return readNpy(readFileSync(path));
  } catch (e) {
    throw new UsageError(`cannot read samples "${path}": ${(e as Error).message}`);
  }
}

function number(p: Parsed, name: string, fallback: number): number {
  const v = option(p, name);
  if (v === undefined) return fallback;
  const x = Number(v);
  if (!Number.isFinite(x)) throw new UsageError(`--${name} must be a number, got "${v}"`);
  return x;
}

/**
 * --block R,C (R output channels × C along K) or N (1 × N along K); default 4,16, the block
 * BlockSparseMatMul stores, so the pruned dense layers run on it.
 */
function blockOf(p: Parsed): number | [number, number] {
  const v = option(p, 'block') ?? '4,16';
  const dims = v.split(',').map(Number);
  if (dims.length > 2 || !dims.every((d) => Number.isInteger(d) && d >= 1)) throw new UsageError(`--block must be N or R,C (positive integers), got "${v}"`);
  return dims.length === 2 ? [dims[0]!, dims[1]!] : dims[0]!;
}

function sparsityOf(p: Parsed): Sparsity {
  const s = option(p, 'sparsity');
  if (!s) throw new UsageError('prune needs --sparsity 2:4|block|0.X');
  if (s === '2:4') return '2:4';
  if (s === 'block') return { sparsity: number(p, 'fraction', 0.5), block: blockOf(p) };
  const f = Number(s);
  if (!(f >= 0 && f < 1)) throw new UsageError(`--sparsity must be 2:4, block or a fraction in [0, 1), got "${s}"`);
  return { sparsity: f };
}

function recipeOf(command: 'quantize' | 'prune', p: Parsed): CompressRecipe {
  const percentile = option(p, 'percentile');
  const calibration: CalibrationMethod | undefined = percentile ? { kind: 'percentile', percentile: number(p, 'percentile', 99.99) } : undefined;
  const activations = option(p, 'static') ? 'static' : option(p, 'dynamic') ? 'dynamic' : undefined;
  const exclude = p.options.get('exclude') ?? [];
  if (command === 'prune') {
    return { weights: option(p, 'int8') ? 'int8' : 'float', sparsity: sparsityOf(p), activations, calibration, exclude };
  }
  const int8 = option(p, 'int8') !== undefined;
  const int4 = option(p, 'int4') !== undefined;
  if (int8 === int4) throw new UsageError('quantize needs exactly one of --int8, --int4');
  return { weights: int8 ? 'int8' : 'int4', activations, calibration, exclude };
}

function printReport(input: string, output: string, r: CompressionReport): void {
  out(`${input} → ${output}: ${fmtBytes(r.size.bundleBytes)}, ${(100 * r.size.ratio).toFixed(1)}% of ${fmtBytes(r.size.sourceBytes)}`);
  out(`  recipe: weights ${r.recipe.weights}${r.recipe.sparsity ? `, sparsity ${JSON.stringify(r.recipe.sparsity)}` : ''}, activations ${r.recipe.activations}; ${r.layers.length} layers rewritten`);
  for (const l of r.layers) out(`    ${l.node}: ${l.opType} ${l.format} [${l.n} x ${l.k}]${l.actScale ? ` act_scale ${l.actScale.toPrecision(4)}` : ''}`);
  if (r.pruning) out(`  pruned: ${(100 * r.pruning.sparsity).toFixed(1)}% of the weights of ${r.pruning.layers.length} layers are zero`);
  if (r.float && r.compressed) {
    const a = r.compressed.accuracy;
    const f = r.float.accuracy;
    out(`  accuracy on ${a.samples} samples:${a.top1 !== undefined ? ` top-1 ${(100 * a.top1).toFixed(2)}% (float ${(100 * f.top1!).toFixed(2)}%),` : ''} cosine ${a.cosine?.toFixed(5)}, max abs error ${a.maxAbsError?.toPrecision(3)}`);
    for (const [backend, ms] of Object.entries(r.compressed.latencyMs)) {
      const fl = r.float.latencyMs[backend as Backend];
      out(`  latency ${backend}: ${typeof ms === 'number' ? `${ms.toFixed(3)} ms` : ms} (float ${typeof fl === 'number' ? `${fl.toFixed(3)} ms` : fl})`);
    }
  }
}

export async function compressCommand(command: 'quantize' | 'prune', p: Parsed): Promise<number> {
  const input = p.positional[1];
  if (!input) throw new UsageError(`${command} needs a MODEL file`);
  const output = option(p, 'out');
  if (!output) throw new UsageError(`${command} needs -o OUT.tsra`);
  const recipe = recipeOf(command, p);
  const bytes = readModel(input);
  const model = await loadModel(bytes);
  if (model.graph.inputs.length !== 1) throw new UsageError(`${command} reads samples for single-input models; this one has ${model.graph.inputs.length} inputs`);
  const { name: inputName, dims } = model.graph.inputs[0]!;
  const calibrate = option(p, 'calibrate');
  const evalFile = option(p, 'eval');
  const labelsFile = option(p, 'labels');
  if (labelsFile && !evalFile) throw new UsageError('--labels goes with --eval');
  const evalSamples = evalFile ? readSamples(evalFile) : undefined;
  const evalBatches = evalSamples ? batchesOf(evalSamples, inputName, dims.length, positiveInt(option(p, 'batch') ?? '100', 'batch')) : undefined;
  const labels = labelsFile ? readSamples(labelsFile).data : undefined;
  const backends = (option(p, 'backends') ?? 'cpu').split(',') as Backend[];
  const name = option(p, 'name') ?? slug(basename(input, extname(input)));
  const { bundle, report } = await compress({
    source: bytes, sourceBytes: bytes.byteLength, recipe, name,
    calibration: calibrate ? batchesOf(readSamples(calibrate), inputName, dims.length, 1) : undefined,
    evaluation: evalBatches ? { batches: evalBatches, labels, latencyFeeds: batchesOf(evalSamples!, inputName, dims.length, 1, 1)[0]! } : undefined,
    backends,
  });
  writeFileSync(output, bundle);
  const reportFile = option(p, 'report') ?? `${output}.report.json`;
  writeFileSync(reportFile, `${JSON.stringify(report, null, 2)}\n`);
  if (option(p, 'json')) out(JSON.stringify(report, null, 2));
  else {
    printReport(input, output, report);
    out(`  report: ${reportFile}`);
  }
  return 0;
}
