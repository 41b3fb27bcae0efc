import { packModel } from '../bundle/write.js';
import type { Model } from '../ir/graph.js';
import { loadModel } from '../load-model.js';
import type { Backend } from '../session.js';
import { sizeOf, type Tensor } from '../tensor.js';
import { calibrate, type CalibrationMethod } from './calibrate.js';
import { evaluateModel, type Feeds, type ModelEvaluation } from './evaluate.js';
import { findWeightLayers } from './layers.js';
import { blockSparseLayers, pruneModel, tilesBlockSparse, type PruneReport, type Sparsity } from './prune.js';
import { quantizeModel, type QuantizeRecipe } from './quantize.js';

/**
 * One compression run as `tessera quantize` / `tessera prune` and the Fashion-MNIST script do it:
 * prune (optional), calibrate (static activations), quantize, pack as a bundle carrying its recipe
 * and metrics, and measure the result against the float model on held-out data, on each backend.
 */
export interface CompressRecipe {
  /** 'float' keeps float weights (prune only; dense layers go to BlockSparseMatMul when pruned in 4 × 16 blocks). */
  readonly weights: 'float' | 'int8' | 'int4';
  readonly sparsity?: Sparsity;
  /** int8 default 'static' when calibration samples are given, else 'dynamic'; int4 default 'float'. */
  readonly activations?: 'static' | 'dynamic' | 'float';
  readonly calibration?: CalibrationMethod;
  readonly exclude?: readonly string[];
}

export interface Evaluation {
  readonly batches: readonly Feeds[];
  readonly labels?: ArrayLike<number>;
  /** One batch-1 input for latency. */
  readonly latencyFeeds: Feeds;
  readonly inputDims?: Readonly<Record<string, readonly number[]>>;
}

export interface CompressJob {
  readonly source: Uint8Array | Model;
  /** Bytes of the source file, for the size ratio. */
  readonly sourceBytes: number;
  readonly recipe: CompressRecipe;
  readonly calibration?: readonly Feeds[];
  readonly evaluation?: Evaluation;
  readonly backends?: readonly Backend[];
  readonly name: string;
  readonly version?: number;
}

export interface CompressionReport {
  readonly recipe: CompressRecipe & { readonly activations: string };
  readonly layers: QuantizeRecipe['layers'];
  readonly pruning?: PruneReport;
  readonly size: { readonly sourceBytes: number; readonly bundleBytes: number; readonly ratio: number; readonly parameters: number };
  readonly float?: ModelEvaluation;
  readonly compressed?: ModelEvaluation;
}

/** Plain JSON (undefined fields dropped), as the manifest stores it. */
const json = (v: object): Record<string, unknown> => JSON.parse(JSON.stringify(v)) as Record<string, unknown>;

function parameters(model: Model): number {
  return [...model.graph.initializers.values()].reduce((n, t) => n + sizeOf(t.dims), 0);
}

export async function compress(job: CompressJob): Promise<{ bundle: Uint8Array; model: Model; report: CompressionReport }> {
  const source = await loadModel(job.source);
  const { recipe } = job;
  const pruned = recipe.sparsity ? pruneModel(source, recipe.sparsity, recipe.exclude) : undefined;
  const base = pruned?.model ?? source;
  const activations = recipe.activations ?? (recipe.weights === 'int4' ? 'float' : job.calibration?.length ? 'static' : 'dynamic');
  if (recipe.sparsity && recipe.sparsity !== '2:4' && recipe.weights !== 'float') {
    throw new RangeError('block and unstructured sparsity run on the float kernels: use weights "float" (2:4 combines with int8)');
  }
  let model = base;
  let layers: QuantizeRecipe['layers'] = [];
  if (recipe.weights === 'float' && recipe.sparsity && tilesBlockSparse(recipe.sparsity)) {
    // Whole 4 × 16 blocks are zero: the dense layers skip them on BlockSparseMatMul.
    const b = blockSparseLayers(base, recipe.exclude);
    model = { ...base, graph: b.graph };
    layers = b.layers.map((l) => ({ node: l.node.name, opType: 'BlockSparseMatMul', format: 'bsr4x16', n: l.n, k: l.k }));
  } else if (recipe.weights !== 'float') {
    let acts: Parameters<typeof quantizeModel>[1]['activations'] = { kind: activations as 'dynamic' | 'float' };
    if (activations === 'static') {
      if (!job.calibration?.length) throw new RangeError('static activation scales need calibration samples');
      const inputs = [...new Set(findWeightLayers(base.graph).map((l) => l.input))];
      acts = { kind: 'static', ranges: await calibrate(base, inputs, job.calibration, { method: recipe.calibration }) };
    }
    const q = quantizeModel(base, {
      weights: recipe.weights, sparsity: recipe.sparsity === '2:4' ? '2:4' : undefined, activations: acts, exclude: recipe.exclude,
    });
    model = q.model;
    layers = q.recipe.layers;
  }
  const backends = job.backends ?? ['cpu'];
  let float: (ModelEvaluation & { outputs: Tensor[] }) | undefined;
  let compressed: ModelEvaluation | undefined;
  if (job.evaluation) {
    const e = job.evaluation;
    float = await evaluateModel(source, { backends, batches: e.batches, latencyFeeds: e.latencyFeeds, labels: e.labels, inputDims: e.inputDims });
    const { outputs: _, ...measured } = await evaluateModel(model, {
      backends, batches: e.batches, latencyFeeds: e.latencyFeeds, labels: e.labels, reference: float.outputs, inputDims: e.inputDims,
    });
    compressed = measured;
  }
  const reportRecipe = { ...recipe, activations };
  const packed = await packModel(model, {
    model: { id: job.name, name: job.name, version: job.version ?? 1 },
    compression: json({ ...reportRecipe, layers }),
    metrics: compressed ? json({ accuracy: compressed.accuracy, floatAccuracy: float!.accuracy }) : undefined,
  });
  const report: CompressionReport = {
    recipe: reportRecipe,
    layers,
    pruning: pruned?.report,
    size: { sourceBytes: job.sourceBytes, bundleBytes: packed.bytes.byteLength, ratio: packed.bytes.byteLength / job.sourceBytes, parameters: parameters(model) },
    float: float ? { accuracy: float.accuracy, latencyMs: float.latencyMs } : undefined,
    compressed,
  };
  return { bundle: packed.bytes, model, report };
}
