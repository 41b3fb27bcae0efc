import { DisposedError, InputError, MemoryLimitError, NoAdapterError, TesseraError } from './errors.js';
import { inWorkers } from './platform.js';
import type { Model } from './ir/graph.js';
import type { ExternalData } from './onnx/load-onnx.js';
import { loadModel } from './load-model.js';
import type { SignatureOptions } from './bundle/signature.js';
import { acquireDevice, wgslLanguageFeatures, type AcquiredDevice } from './gpu/device.js';
import { planModel, bindInputDims, type ExecutionPlan } from './runtime/plan.js';
import { runReference } from './runtime/reference-executor.js';
import { GpuExecutable } from './runtime/webgpu/gpu-executable.js';
import { CpuExecutable } from './runtime/cpu/cpu-executable.js';
import { instantiateCpuKernels, type CpuKernelSource } from './runtime/cpu/kernel-module.js';
import { sizeOf, type DType, type Tensor } from './tensor.js';

export type Backend = 'webgpu' | 'cpu' | 'reference' | 'auto';
type ResolvedBackend = Exclude<Backend, 'auto'>;

/** `publicKey`, `signature`, `requireSignature` and `signedAs` apply to the model's bytes, bundle or ONNX. */
export interface SessionOptions extends SignatureOptions {
  readonly backend?: Backend;
  /** A device the application owns; the session never destroys it. */
  readonly device?: GPUDevice;
  /** Dims per input, for models with symbolic dims; otherwise symbols bind to `symbols` or 1. */
  readonly inputDims?: Readonly<Record<string, readonly number[]>>;
  readonly symbols?: Readonly<Record<string, number>>;
  readonly externalData?: ExternalData;
  /** Time each node on every run: timestamp queries on WebGPU (one pass per node: slower), wall time on the CPU. */
  readonly profile?: boolean;
  /** The CPU kernels' wasm: required in Cloudflare Workers (import the .wasm), found by itself elsewhere. */
  readonly cpuKernels?: CpuKernelSource;
  /** Most linear memory one CPU plan may take; defaults to 128 MiB less the model's weights in a Worker, else 2 GiB. */
  readonly memoryLimitBytes?: number;
}

export interface NodeReport {
  readonly name: string;
  readonly opType: string;
  readonly backend: ResolvedBackend;
  /** Kernel launches per run: GPU dispatches, or calls into the CPU kernels. */
  readonly dispatches: number;
  /** Time of the last profiled run: GPU time where the adapter has timestamp queries, wall time on the CPU. */
  readonly ms?: number;
}

export interface SessionReport {
  readonly backend: ResolvedBackend;
  readonly reason: string;
  readonly adapter?: string;
  readonly loadMs: number;
  readonly pipelines: number;
  readonly dispatchesPerRun: number;
  /** Linear memory of the CPU kernels' instance, when the CPU backend runs. */
  readonly cpuMemoryBytes?: number;
  readonly nodes: readonly NodeReport[];
  readonly foldedAtLoad: number;
  /** What the import of a quantized ONNX model approximated (Model.importNotes); empty when exact. */
  readonly importNotes: readonly string[];
}

export interface IoInfo {
  readonly name: string;
  readonly dtype: DType;
  readonly dims: readonly (number | string)[];
}

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

interface Bucket {
  /** Input dims it was planned for, as `buckets` keys it. */
  readonly key: string;
  /** The same dims, in the graph's input order. */
  readonly dims: readonly (readonly number[])[];
  readonly plan: ExecutionPlan;
  readonly gpu?: GpuExecutable;
  readonly cpu?: CpuExecutable;
}

const WORKER_MEMORY = 128 * 2 ** 20;

/** The outputs as a plain record: Object.fromEntries measured ~220 ns a call here, a loop ~25. */
function record(outputs: ReadonlyMap<string, Tensor>): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [name, t] of outputs) out[name] = t;
  return out;
}

/**
 * A loaded model ready to run. Plans are made per binding of the input dims (a "shape bucket"):
 * the first at load, others on first use. Runs are queued so concurrent calls never interleave on
 * the device's buffers.
 */
export class Session {
  readonly inputs: readonly IoInfo[];
  readonly outputs: readonly IoInfo[];
  private readonly buckets = new Map<string, Promise<Bucket>>();
  /** GPU plans that hold buffers, freed at once by dispose. */
  private readonly resident = new Set<GpuExecutable>();
  /** CPU plans, each with its own wasm memory, counted against the memory limit. */
  private readonly residentCpu = new Set<CpuExecutable>();
  private queue: Promise<unknown> = Promise.resolve();
  /** Runs queued and not yet settled. */
  private queued = 0;
  private disposed = false;
  private lastTimings: readonly number[] | undefined;
  private lastBucket: Bucket | undefined;

  private constructor(
    private readonly model: Model,
    private readonly backend: ResolvedBackend,
    private readonly reason: string,
    private readonly gpu: AcquiredDevice | undefined,
    private readonly ownsDevice: boolean,
    private readonly options: SessionOptions,
    private loadMs: number,
  ) {
    this.inputs = model.graph.inputs;
    this.outputs = model.graph.outputs;
  }

  /** `source`: a Tessera bundle or ONNX model (bytes, told apart by the bundle's magic), or a Model. */
  static async load(source: Uint8Array | ArrayBuffer | Model, options: SessionOptions = {}): Promise<Session> {
    const t0 = now();
    const model = await loadModel(source, options);
    const wanted = options.backend ?? 'auto';
    let gpu: AcquiredDevice | undefined;
    let reason: string;
    let owns = false;
    let backend: ResolvedBackend = 'webgpu';
    if (wanted === 'reference' || wanted === 'cpu') {
      backend = wanted;
      reason = `${wanted} backend requested`;
    } else if (options.device) {
      const device = options.device;
      gpu = { device, adapterInfo: 'application-provided device', features: new Set([...device.features]), wgslFeatures: await wgslLanguageFeatures() };
      reason = 'WebGPU device provided by the application';
    } else {
      try {
        gpu = await acquireDevice();
        owns = true;
        reason = `WebGPU adapter: ${gpu.adapterInfo}`;
      } catch (e) {
        if (wanted === 'webgpu' || !(e instanceof NoAdapterError)) throw e;
        backend = 'cpu';
        reason = `no WebGPU adapter (${e.message}); using the CPU kernels (WebAssembly SIMD)`;
      }
    }
    const session = new Session(model, backend, reason, gpu, owns, options, 0);
    try {
      const dims = Object.fromEntries(model.graph.inputs.map((i) => [i.name, bindInputDims(i, options.inputDims?.[i.name], options.symbols ?? {})]));
      session.lastBucket = await session.bucket(dims);
    } catch (e) {
      session.dispose();
      throw e;
    }
    session.loadMs = now() - t0;
    return session;
  }

  private bucket(dims: Record<string, readonly number[]>): Promise<Bucket> {
    const ordered = this.model.graph.inputs.map((i) => dims[i.name]!);
    const key = JSON.stringify(ordered);
    let b = this.buckets.get(key);
    if (!b) {
      b = (async () => {
        const plan = planModel(this.model, { inputDims: dims, symbols: this.options.symbols });
        if (this.backend === 'cpu') {
          // One instance per bucket: each plan lays out the instance's memory for itself.
          const kernels = await instantiateCpuKernels(this.options.cpuKernels);
          const cpu = CpuExecutable.create(kernels, plan, this.memoryLimit());
          this.residentCpu.add(cpu);
          return { key, dims: ordered, plan, cpu };
        }
        const gpu = this.gpu ? await GpuExecutable.create(this.gpu, plan) : undefined;
        if (gpu && this.disposed) {
          gpu.dispose();
          throw new DisposedError();
        }
        if (gpu) this.resident.add(gpu);
        return { key, dims: ordered, plan, gpu };
      })();
      this.buckets.set(key, b);
      b.catch(() => this.buckets.delete(key));
    }
    return b;
  }

  /**
   * What the next CPU plan may take: the caller's limit, or in a Worker its 128 MiB less the
   * model's weights held in JS; either less what this session's other shape buckets already hold.
   */
  private memoryLimit(): number {
    let held = 0;
    for (const cpu of this.residentCpu) held += cpu.memoryBytes;
    if (this.options.memoryLimitBytes !== undefined) return this.options.memoryLimitBytes - held;
    if (!inWorkers()) return 2 ** 31 - held;
    let weights = 0;
    for (const t of this.model.graph.initializers.values()) weights += t.data.byteLength;
    if (weights >= WORKER_MEMORY) {
      throw new MemoryLimitError(`the model's weights alone (${(weights / 2 ** 20).toFixed(1)} MiB) exceed a Worker's 128 MiB of memory`);
    }
    return WORKER_MEMORY - weights - held;
  }

  private validate(feeds: Readonly<Record<string, Tensor>>): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const input of this.model.graph.inputs) {
      const t = feeds[input.name];
      if (!t) throw new InputError(`missing input "${input.name}" (expected ${input.dtype} [${input.dims.join(', ')}])`);
      if (t.dtype !== input.dtype) throw new InputError(`input "${input.name}" must be ${input.dtype}, got ${t.dtype}`);
      if (t.dims.length !== input.dims.length || input.dims.some((d, i) => typeof d === 'number' && d !== t.dims[i])) {
        throw new InputError(`input "${input.name}" must have dims [${input.dims.join(', ')}], got [${t.dims.join(', ')}]`);
      }
      if (t.data.length !== sizeOf(t.dims)) {
        throw new InputError(`input "${input.name}" has ${t.data.length} values for dims [${t.dims.join(', ')}]`);
      }
      out.set(input.name, t);
    }
    const unknown = Object.keys(feeds).filter((k) => !this.model.graph.inputs.some((i) => i.name === k));
    if (unknown.length) throw new InputError(`unknown input(s): ${unknown.join(', ')}`);
    return out;
  }

  async run(feeds: Readonly<Record<string, Tensor>>): Promise<Record<string, Tensor>> {
    if (this.disposed) throw new DisposedError();
    const checked = this.validate(feeds);
    // CPU runs are synchronous: with nothing queued and the last shape again, run now rather than
    // through the queue's promise hops and the bucket lookup (about 3 µs, 5-10% of a wake-word head).
    const last = this.lastBucket;
    if (this.queued === 0 && last?.cpu && this.sameDims(last, checked)) return record(this.runCpu(last, last.cpu, checked));
    this.queued++;
    const result = this.queue.then(async () => {
      if (this.disposed) throw new DisposedError();
      const bucket = await this.bucket(Object.fromEntries([...checked].map(([k, t]) => [k, t.dims])));
      this.lastBucket = bucket;
      if (bucket.cpu) return this.runCpu(bucket, bucket.cpu, checked);
      if (!bucket.gpu) return runReference(bucket.plan, checked);
      const { outputs, timings } = await bucket.gpu.run(checked, this.options.profile ?? false);
      if (timings) this.lastTimings = timings.perNodeMs;
      return outputs;
    });
    this.queue = result.catch(() => undefined).finally(() => this.queued--);
    return record(await result);
  }

  private runCpu(bucket: Bucket, cpu: CpuExecutable, feeds: ReadonlyMap<string, Tensor>): Map<string, Tensor> {
    try {
      const { outputs, perNodeMs } = cpu.run(feeds, this.options.profile ?? false);
      if (perNodeMs) this.lastTimings = perNodeMs;
      return outputs;
    } catch (e) {
      // A trap leaves the instance's stack and buffers as the kernel left them: the next run of
      // this shape gets a fresh instance.
      this.residentCpu.delete(cpu);
      this.buckets.delete(bucket.key);
      if (this.lastBucket === bucket) this.lastBucket = undefined;
      throw e;
    }
  }

  private sameDims(bucket: Bucket, feeds: ReadonlyMap<string, Tensor>): boolean {
    return this.model.graph.inputs.every((input, i) => {
      const want = bucket.dims[i]!;
      const got = feeds.get(input.name)!.dims;
      return got.length === want.length && got.every((d, j) => d === want[j]);
    });
  }

  report(): SessionReport {
    const bucket = this.lastBucket;
    const gpu = bucket?.gpu;
    const cpu = bucket?.cpu;
    const nodes: NodeReport[] = gpu
      ? gpu.nodes.map((n, i) => ({ name: n.name, opType: n.opType, backend: 'webgpu', dispatches: n.dispatches, ms: this.lastTimings?.[i] }))
      : cpu
        ? cpu.nodes.map((n, i) => ({ name: n.name, opType: n.opType, backend: 'cpu', dispatches: n.calls, ms: this.lastTimings?.[i] }))
        : (bucket?.plan.nodes ?? []).map((p) => ({ name: p.node.name, opType: p.node.opType, backend: 'reference', dispatches: 0 }));
    return {
      backend: this.backend,
      reason: this.reason,
      adapter: this.gpu?.adapterInfo,
      loadMs: this.loadMs,
      pipelines: gpu?.pipelineCount ?? 0,
      dispatchesPerRun: gpu?.dispatchCount ?? cpu?.callCount ?? 0,
      cpuMemoryBytes: cpu?.memoryBytes,
      nodes,
      foldedAtLoad: this.model.graph.nodes.length - (bucket?.plan.nodes.length ?? 0),
      importNotes: this.model.importNotes ?? [],
    };
  }

  /**
   * Frees GPU buffers now (a plan still loading frees its own when it finishes) and drops the CPU
   * kernels' memory with the session; destroys the device only if the session created it. Safe to
   * call twice.
   */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const gpu of this.resident) gpu.dispose();
    this.resident.clear();
    this.residentCpu.clear();
    this.buckets.clear();
    if (this.ownsDevice) void this.queue.finally(() => this.gpu?.device.destroy());
  }
}

export { TesseraError };
