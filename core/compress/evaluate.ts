import type { Model } from '../ir/graph.js';
import { Session, type Backend } from '../session.js';
import type { Tensor } from '../tensor.js';

/**
 * What a compression report measures: a compressed model against its float original on the same
 * held-out inputs — top-1 when labels are known (classifiers), and always the cosine similarity
 * and largest absolute error of the first output (what matters for embeddings and regressors) —
 * plus steady-state latency on each backend.
 */
export interface Accuracy {
  readonly samples: number;
  /** Fraction of samples whose argmax equals the label (classifiers). */
  readonly top1?: number;
  /** Mean over samples of the cosine similarity with the reference model's output. */
  readonly cosine?: number;
  readonly maxAbsError?: number;
}

export type Feeds = Readonly<Record<string, Tensor>>;

/** Index of the largest value of each row of `classes` values (the first one on ties). */
export function argmaxRows(data: ArrayLike<number>, classes: number): Int32Array {
  const out = new Int32Array(data.length / classes);
  for (let r = 0; r < out.length; r++) {
    let best = 0;
    for (let j = 1; j < classes; j++) if (data[r * classes + j]! > data[r * classes + best]!) best = j;
    out[r] = best;
  }
  return out;
}

function cosineRows(a: Tensor, b: Tensor): number[] {
  const cols = a.dims[a.dims.length - 1] ?? 1;
  const rows = a.data.length / cols;
  return Array.from({ length: rows }, (_, r) => {
    let dot = 0;
    let na = 0;
    let nb = 0;
    for (let j = r * cols; j < (r + 1) * cols; j++) {
      dot += a.data[j]! * b.data[j]!;
      na += a.data[j]! ** 2;
      nb += b.data[j]! ** 2;
    }
    return na === 0 && nb === 0 ? 1 : dot / Math.sqrt(na * nb);
  });
}

/**
 * Runs `session` over the batches; with `reference` outputs (one tensor per batch, from the float
 * model) adds cosine and max error, with `labels` (one per output row, in order) top-1.
 */
export async function measureAccuracy(
  session: Session,
  batches: readonly Feeds[],
  { labels, reference }: { labels?: ArrayLike<number>; reference?: readonly Tensor[] } = {},
): Promise<{ accuracy: Accuracy; outputs: Tensor[] }> {
  const outputName = session.outputs[0]!.name;
  const outputs: Tensor[] = [];
  let rows = 0;
  let correct = 0;
  let cosSum = 0;
  let maxAbs = 0;
  for (const [i, feeds] of batches.entries()) {
    const y = (await session.run(feeds))[outputName]!;
    outputs.push(y);
    const predicted = argmaxRows(y.data, y.dims[y.dims.length - 1] ?? 1);
    if (labels) predicted.forEach((p, r) => (correct += p === labels[rows + r] ? 1 : 0));
    const ref = reference?.[i];
    if (ref) {
      cosSum += cosineRows(y, ref).reduce((s, c) => s + c, 0);
      for (let j = 0; j < y.data.length; j++) maxAbs = Math.max(maxAbs, Math.abs(y.data[j]! - ref.data[j]!));
    }
    rows += predicted.length;
  }
  return {
    accuracy: {
      samples: rows,
      top1: labels ? correct / rows : undefined,
      cosine: reference ? cosSum / rows : undefined,
      maxAbsError: reference ? maxAbs : undefined,
    },
    outputs,
  };
}

/** Median steady-state time of one run, after warm-up runs that absorb compilation and first-use costs. */
export async function steadyLatencyMs(session: Session, feeds: Feeds, { warmup = 3, runs = 20 } = {}): Promise<number> {
  for (let i = 0; i < warmup; i++) await session.run(feeds);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await session.run(feeds);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

export interface ModelEvaluation {
  readonly accuracy: Accuracy;
  /** Steady ms per backend for `latencyFeeds`; a backend that cannot load says why instead. */
  readonly latencyMs: Readonly<Partial<Record<Backend, number | string>>>;
}

/** Loads `model` on each backend, times it, and measures accuracy (on the first backend). */
export async function evaluateModel(
  model: Model,
  {
    backends, batches, latencyFeeds, labels, reference, inputDims,
  }: {
    backends: readonly Backend[];
    batches: readonly Feeds[];
    latencyFeeds: Feeds;
    labels?: ArrayLike<number>;
    reference?: readonly Tensor[];
    inputDims?: Readonly<Record<string, readonly number[]>>;
  },
): Promise<ModelEvaluation & { outputs: Tensor[] }> {
  const latencyMs: Partial<Record<Backend, number | string>> = {};
  let measured: { accuracy: Accuracy; outputs: Tensor[] } | undefined;
  for (const backend of backends) {
    let session: Session | undefined;
    try {
      session = await Session.load(model, { backend, inputDims });
      measured ??= await measureAccuracy(session, batches, { labels, reference });
      // The same session: latencyFeeds' shape gets a plan of its own in it (a shape bucket).
      latencyMs[backend] = await steadyLatencyMs(session, latencyFeeds);
    } catch (e) {
      latencyMs[backend] = (e as Error).message;
    } finally {
      session?.dispose();
    }
  }
  if (!measured) throw new Error(`the model ran on none of: ${backends.join(', ')} (${JSON.stringify(latencyMs)})`);
  return { ...measured, latencyMs };
}
