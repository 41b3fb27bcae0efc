import { Session } from '../../core/session.js';
import { ApiError, fromTessera } from './errors.js';

/**
 * Models come from an R2 bucket bound to the Worker, keyed by name. R2 rather than the control
 * plane's resolve + artifact URL: the bytes sit in the same account, so a load is one bucket read
 * with no API key in the Worker and no second Worker on the request path; publishing a model to an
 * edge is `wrangler r2 object put`. (Per-client rollout through resolve would slot in here, keyed by
 * digest.)
 *
 * Each isolate keeps its last few sessions. A load is shared by the requests that wait for it, and
 * a failed load is forgotten so the next request tries again.
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

interface Entry {
  readonly loaded: Promise<{ readonly session: Session; readonly etag: string }>;
  checkedAt: number;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export class ModelCache {
  /** Map order is recency: a hit moves its entry to the end. */
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly cpuKernels: WebAssembly.Module) {}

  async get(store: ModelStore, name: string, limits: LoaderLimits): Promise<Session> {
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
      this.evict(limits.maxCached);
    } else {
      this.entries.delete(name);
      this.entries.set(name, entry);
    }
    return (await entry.loaded).session;
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
          return { session: await Session.load(await object.arrayBuffer(), { backend: 'cpu', cpuKernels: this.cpuKernels }), etag: object.etag };
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

  /**
   * Dropped sessions are not disposed: requests may still hold them, and a CPU session's wasm
   * memory goes with its last reference anyway.
   */
  private evict(maxCached: number): void {
    for (const name of this.entries.keys()) {
      if (this.entries.size <= maxCached) break;
      this.entries.delete(name);
    }
  }
}

const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);
