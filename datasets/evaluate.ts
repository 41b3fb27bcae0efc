/**
 * Classifier evaluation over a loaded Session: logits for a whole image set, run in batches (the
 * models have a symbolic batch dim; each batch size is one shape bucket of the session), and top-1
 * accuracy from them. Shared by the training, fine-tune and eval scripts and their tests.
 */
import { InputError } from '../core/errors.js';
import type { Session } from '../core/session.js';
import { sizeOf } from '../core/tensor.js';
import { argmaxRows } from '../core/compress/evaluate.js';

export interface EvalOptions {
  /** Images per run; ignored when the model's batch dim is fixed. Default 100. */
  readonly batch?: number;
}

export interface Logits {
  readonly count: number;
  readonly classes: number;
  /** [count, classes] row-major. */
  readonly data: Float32Array;
}

/** The one image input and its per-image dims, checked to be a [batch, ...] float32 input. */
function imageInput(session: Session): { name: string; sample: readonly number[]; fixedBatch: number | undefined } {
  if (session.inputs.length !== 1 || session.outputs.length !== 1) {
    throw new InputError(`a classifier has one input and one output; this model has ${session.inputs.length} and ${session.outputs.length}`);
  }
  const input = session.inputs[0]!;
  const sample = input.dims.slice(1);
  if (input.dtype !== 'float32' || input.dims.length < 2 || sample.some((d) => typeof d !== 'number')) {
    throw new InputError(`input "${input.name}" must be float32 [batch, ...fixed dims], got ${input.dtype} [${input.dims.join(', ')}]`);
  }
  const batch = input.dims[0];
  return { name: input.name, sample: sample as number[], fixedBatch: typeof batch === 'number' ? batch : undefined };
}

/** Runs every image through the session and gathers the logits. */
export async function collectLogits(session: Session, images: Float32Array, options: EvalOptions = {}): Promise<Logits> {
  const { name, sample, fixedBatch } = imageInput(session);
  const perImage = sizeOf(sample);
  if (images.length % perImage !== 0) throw new InputError(`${images.length} values are not a whole number of [${sample.join(', ')}] images`);
  const count = images.length / perImage;
  const batch = fixedBatch ?? options.batch ?? 100;
  if (!Number.isInteger(batch) || batch < 1) throw new InputError(`batch must be a positive integer, got ${batch}`);
  if (fixedBatch !== undefined && count % fixedBatch !== 0) throw new InputError(`the model takes batches of exactly ${fixedBatch}; ${count} images do not divide into them`);
  let data: Float32Array | undefined;
  let classes = 0;
  for (let start = 0; start < count; start += batch) {
    const n = Math.min(batch, count - start);
    const feeds = { [name]: { dtype: 'float32' as const, dims: [n, ...sample], data: images.subarray(start * perImage, (start + n) * perImage) } };
    const out = Object.values(await session.run(feeds))[0]!;
    if (out.dtype !== 'float32' || out.dims.length !== 2 || out.dims[0] !== n) {
      throw new InputError(`a classifier's output must be float32 [batch, classes], got ${out.dtype} [${out.dims.join(', ')}]`);
    }
    classes = out.dims[1]!;
    data ??= new Float32Array(count * classes);
    data.set(out.data as Float32Array, start * classes);
  }
  return { count, classes, data: data ?? new Float32Array(0) };
}

/** Fraction of rows whose argmax is the label. */
export function accuracy(logits: Logits, labels: Uint8Array): number {
  if (labels.length !== logits.count) throw new InputError(`${labels.length} labels for ${logits.count} rows of logits`);
  if (logits.count === 0) throw new InputError('accuracy of an empty set is undefined');
  const predicted = argmaxRows(logits.data, logits.classes);
  let right = 0;
  for (let i = 0; i < labels.length; i++) if (predicted[i] === labels[i]) right++;
  return right / labels.length;
}

/** Largest |a − b| over the first `rows` rows of two logit sets (all of the shorter by default). */
export function maxAbsDiff(a: Logits, b: Logits, rows = Math.min(a.count, b.count)): number {
  if (a.classes !== b.classes) throw new InputError(`logits of ${a.classes} and ${b.classes} classes cannot be compared`);
  if (rows > a.count || rows > b.count) throw new InputError(`${rows} rows asked of logits holding ${a.count} and ${b.count}`);
  let worst = 0;
  for (let i = 0; i < rows * a.classes; i++) worst = Math.max(worst, Math.abs(a.data[i]! - b.data[i]!));
  return worst;
}
