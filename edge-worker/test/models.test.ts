import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { WASM_OUT } from '../../scripts/build-wasm.mjs';
import { ApiError } from '../src/errors.js';
import { ModelCache, type ModelStore } from '../src/models.js';
import { batchReluModel, reshapeModel, unsupportedModel } from './fixtures.js';

/** The per-isolate model cache on a stand-in bucket: reuse, reload on a new etag, eviction, one session per model, no cached failures. */
class FakeBucket implements ModelStore {
  readonly objects = new Map<string, { bytes: Uint8Array; etag: string }>();
  gets = 0;
  private version = 0;

  put(key: string, bytes: Uint8Array): void {
    this.objects.set(key, { bytes, etag: `e${++this.version}` });
  }

  async head(key: string) {
    const o = this.objects.get(key);
    return o ? { size: o.bytes.length, etag: o.etag } : null;
  }

  async get(key: string) {
    this.gets++;
    const o = this.objects.get(key);
    return o ? { size: o.bytes.length, etag: o.etag, arrayBuffer: async () => new Uint8Array(o.bytes).buffer } : null;
  }
}

const limits = { maxModelBytes: 1 << 20, maxCached: 2, recheckMs: 60_000 };

describe('ModelCache', () => {
  let kernels: WebAssembly.Module;
  beforeAll(async () => {
    kernels = await WebAssembly.compile(readFileSync(WASM_OUT));
  });

  const x23 = { x: [2, 3] };

  it('loads a model once for concurrent and later requests', async () => {
    const bucket = new FakeBucket();
    bucket.put('m', reshapeModel());
    const cache = new ModelCache(kernels);
    const [a, b] = await Promise.all([cache.session(bucket, 'm', limits, x23), cache.session(bucket, 'm', limits, x23)]);
    expect(a).toBe(b);
    expect(await cache.session(bucket, 'm', limits, x23)).toBe(a);
    expect(bucket.gets).toBe(1);
  });

  it('keeps one session per model: other dims replace it, from the parsed model', async () => {
    const bucket = new FakeBucket();
    bucket.put('m', batchReluModel());
    const cache = new ModelCache(kernels);
    const one = await cache.session(bucket, 'm', limits, { x: [1, 3] });
    const four = await cache.session(bucket, 'm', limits, { x: [4, 3] });
    expect(four).not.toBe(one);
    expect(await cache.session(bucket, 'm', limits, { x: [4, 3] })).toBe(four);
    expect((await four.run({ x: { dtype: 'float32', dims: [4, 3], data: new Float32Array(12).fill(-1) } })).y!.data).toEqual(new Float32Array(12));
    expect(bucket.gets).toBe(1);
  });

  it('reloads a model whose object changed, once the recheck interval has passed', async () => {
    const bucket = new FakeBucket();
    bucket.put('m', reshapeModel());
    const cache = new ModelCache(kernels);
    const first = await cache.session(bucket, 'm', { ...limits, recheckMs: 0 }, x23);
    await new Promise((r) => setTimeout(r, 2));
    expect(await cache.session(bucket, 'm', { ...limits, recheckMs: 0 }, x23)).toBe(first);
    bucket.put('m', reshapeModel());
    await new Promise((r) => setTimeout(r, 2));
    expect(await cache.session(bucket, 'm', { ...limits, recheckMs: 0 }, x23)).not.toBe(first);
    expect(bucket.gets).toBe(2);
  });

  it('keeps the most recently used models only', async () => {
    const bucket = new FakeBucket();
    for (const k of ['a', 'b', 'c']) bucket.put(k, reshapeModel());
    const cache = new ModelCache(kernels);
    const a = await cache.model(bucket, 'a', limits);
    await cache.model(bucket, 'b', limits);
    expect(await cache.model(bucket, 'a', limits)).toBe(a);
    await cache.model(bucket, 'c', limits);
    // b was the least recently used; a stays.
    expect(await cache.model(bucket, 'a', limits)).toBe(a);
    expect(bucket.gets).toBe(3);
    await cache.model(bucket, 'b', limits);
    expect(bucket.gets).toBe(4);
  });

  it('does not cache failures: a model put after a 404, or replaced after an error, loads', async () => {
    const bucket = new FakeBucket();
    const cache = new ModelCache(kernels);
    const now = { ...limits, recheckMs: 0 };
    await expect(cache.model(bucket, 'm', now)).rejects.toMatchObject({ status: 404, code: 'model_not_found' });
    bucket.put('m', unsupportedModel());
    await expect(cache.session(bucket, 'm', now, { x: [4] })).rejects.toMatchObject({ status: 501, code: 'unsupported_op' });
    bucket.put('m', reshapeModel());
    await new Promise((r) => setTimeout(r, 2));
    expect((await cache.session(bucket, 'm', now, x23)).inputs[0]!.name).toBe('x');
    await expect(cache.model(bucket, '../m', now)).rejects.toBeInstanceOf(ApiError);
  });
});
