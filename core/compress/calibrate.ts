import type { Model } from '../ir/graph.js';
import { Session, type Backend } from '../session.js';
import type { Tensor } from '../tensor.js';

/**
 * Post-training calibration: runs the float model on sample inputs with the named intermediate
 * values exposed as extra outputs, and keeps, per value, enough of |x| to choose a static int8
 * scale — the plain maximum (min-max) or a high percentile, which ignores rare outliers that
 * would otherwise stretch the scale and cost every other value resolution.
 */
export type CalibrationMethod = { readonly kind: 'minmax' } | { readonly kind: 'percentile'; readonly percentile: number };

export interface CalibrateOptions {
  readonly method?: CalibrationMethod;
  /** The backend the float model runs on; the CPU kernels by default (no adapter needed). */
  readonly backend?: Backend;
  readonly inputDims?: Readonly<Record<string, readonly number[]>>;
  /** Largest sample of |x| kept per value (strided subsample past it), bounding memory. */
  readonly maxSamples?: number;
}

class AbsSample {
  max = 0;
  private kept: number[] = [];
  private seen = 0;
  constructor(private readonly cap: number) {}

  add(data: Float32Array): void {
    for (let i = 0; i < data.length; i++) {
      const a = Math.abs(data[i]!);
      if (a > this.max) this.max = a;
    }
    // A deterministic stride, widened as more batches arrive, keeps the sample spread across them.
    const stride = Math.max(1, Math.ceil(((this.seen + data.length) / this.cap)));
    for (let i = (stride - (this.seen % stride)) % stride; i < data.length; i += stride) this.kept.push(Math.abs(data[i]!));
    this.seen += data.length;
    if (this.kept.length > this.cap) {
      const every = Math.ceil(this.kept.length / this.cap);
      this.kept = this.kept.filter((_, i) => i % every === 0);
    }
  }

  percentile(p: number): number {
    if (this.kept.length === 0) return 0;
    const sorted = Float64Array.from(this.kept).sort();
    return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
  }
}

/** The range of |x| chosen for each named value: symmetric int8 uses scale = range / 127. */
export async function calibrate(
  model: Model,
  values: readonly string[],
  samples: Iterable<Readonly<Record<string, Tensor>>>,
  options: CalibrateOptions = {},
): Promise<Map<string, number>> {
  const method = options.method ?? { kind: 'minmax' };
  const known = new Set([...model.graph.outputs, ...model.graph.inputs].map((o) => o.name));
  const exposed = values.filter((v) => !known.has(v));
  const probe: Model = {
    ...model,
    graph: { ...model.graph, outputs: [...model.graph.outputs, ...exposed.map((name) => ({ name, dtype: 'float32' as const, dims: [] }))] },
  };
  const session = await Session.load(probe, { backend: options.backend ?? 'cpu', inputDims: options.inputDims });
  const stats = new Map(values.map((v) => [v, new AbsSample(options.maxSamples ?? 1 << 20)]));
  let count = 0;
  try {
    for (const feeds of samples) {
      const out = await session.run(feeds);
      const inputs = new Map(Object.entries(feeds));
      for (const [name, s] of stats) {
        const t = out[name] ?? inputs.get(name);
        if (t && t.dtype === 'float32') s.add(t.data as Float32Array);
      }
      count++;
    }
  } finally {
    session.dispose();
  }
  if (count === 0) throw new RangeError('calibration needs at least one sample');
  return new Map([...stats].map(([name, s]) => [name, method.kind === 'minmax' ? s.max : s.percentile(method.percentile)]));
}
