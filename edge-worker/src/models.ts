import type { Model } from '../../core/ir/graph.js';
import { loadModel } from '../../core/load-model.js';
import { Session } from '../../core/session.js';
import { ApiError, fromTessera } from './errors.js';

/**
 * Models come from an R2 bucket bound to the Worker, keyed by name. R2 rather than the control
 * plane's resolve + artifact URL: the bytes sit in the same account, so a load is one bucket read
 * with no API key in the Worker and no second Worker on the request path; publishing a model to an
 * edge is `wrangler r2 object put`. (Per-client rollout through resolve would slot in here, keyed by
 * digest.)
 *
 * Each isolate keeps its last few models, parsed, and per model one session: the CPU plan for the
 * input dims of the last request. A request with other dims (a model with symbolic dims) gets a new
 * session in its place rather than a second one beside it, so an isolate holds at most
 * `maxCached` wasm instances however many shapes clients send. Loads are shared by the requests
 * that wait for them; failures are forgotten so the next request tries again.
 */

/** The part of an R2 binding the loader uses (R2Bucket satisfies it). */
export interface ModelStore {
  head(key: string): Promise<{ readonly size: number; readonly etag: string } | null>;
  get(key: string): Promise<{ readonly size: number; readonly etag: string; arrayBuffer(): Promise<ArrayBuffer> } | null>;
}

export interface LoaderLimits {
  readonly maxModelBytes: number;
  readonly maxCached: number;
  readonly recheckMs: number;
}

export type InputDims = Readonly<Record<string, readonly number[]>>;

interface Entry {
  readonly loaded: Promise<{ readonly model: Model; readonly etag: string }>;
  checkedAt: number;
  session?: { readonly dims: string; readonly session: Promise<Session> };
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export class ModelCache {
  /** Map order is recency: a hit moves its entry to the end. */
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly cpuKernels: WebAssembly.Module) {}

  /** The parsed model, from R2 on first use and again when its object has changed. */
  async model(store: ModelStore, name: string, limits: LoaderLimits): Promise<Model> {
    return (await (await this.entry(store, name, limits)).loaded).model;
  }

  /** A CPU session planned for `dims` (every input's, already checked against the model). */
  async session(store: ModelStore, name: string, limits: LoaderLimits, dims: InputDims): Promise<Session> {
    const entry = await this.entry(store, name, limits);
    const { model } = await entry.loaded;
    const key = JSON.stringify(model.graph.inputs.map((i) => dims[i.name]));
    if (entry.session?.dims !== key) {
      // 'auto': a Worker has no navigator.gpu, so this is the CPU backend, found as an app would find it.
      const session = Session.load(model, { backend: 'auto', cpuKernels: this.cpuKernels, inputDims: dims }).catch((e: unknown) => {
        throw fromTessera(e) ?? e;
      });
      const slot = { dims: key, session };
      entry.session = slot;
      session.catch(() => {
        if (entry.session === slot) entry.session = undefined;
      });
    }
    return entry.session!.session;
  }

  private async entry(store: ModelStore, name: string, limits: LoaderLimits): Promise<Entry> {
    if (!NAME.test(name)) throw new ApiError(400, 'invalid_name', 'a model name is 1-128 letters, digits, ".", "_" or "-", starting with a letter or digit');
    let entry = this.entries.get(name);
    if (entry && Date.now() - entry.checkedAt > limits.recheckMs) {
      // Marked checked before the round trip, so concurrent requests do not all ask R2.
      entry.checkedAt = Date.now();
      const [head, { etag }] = await Promise.all([store.head(name), entry.loaded]);
      if (head?.etag !== etag && this.entries.get(name) === entry) this.entries.delete(name);
      entry = this.entries.get(name);
    }
    if (!entry) {
      entry = this.load(store, name, limits);
      this.entries.set(name, entry);
      // Dropped entries are not disposed: requests may still hold their sessions, and a CPU
      // session's wasm memory goes with its last reference anyway.
      for (const key of this.entries.keys()) {
        if (this.entries.size <= limits.maxCached) break;
        this.entries.delete(key);
      }
    } else {
      this.entries.delete(name);
      this.entries.set(name, entry);
    }
    return entry;
  }

  private load(store: ModelStore, name: string, limits: LoaderLimits): Entry {
    const entry: Entry = {
      checkedAt: Date.now(),
      loaded: (async () => {
        const object = await store.get(name);
        if (!object) throw new ApiError(404, 'model_not_found', `no model "${name}" in this worker's bucket`);
        if (object.size > limits.maxModelBytes) {
          throw new ApiError(507, 'model_too_large', `model "${name}" is ${mib(object.size)} MiB; this worker loads models up to ${mib(limits.maxModelBytes)} MiB (a Worker isolate has 128 MB in all)`, {
            bytes: object.size,
            limit: limits.maxModelBytes,
          });
        }
        try {
          return { model: await loadModel(new Uint8Array(await object.arrayBuffer())), etag: object.etag };
        } catch (e) {
          throw fromTessera(e) ?? e;
        }
      })(),
    };
    entry.loaded.catch(() => {
      if (this.entries.get(name) === entry) this.entries.delete(name);
    });
    return entry;
  }
}

const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);
