import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { artifactKey } from '../src/artifact-store.js';
import { bundle, call, newKey, promote, publishApproved, sha256, uniqueName, upload } from './helpers.js';

/** Asserts a 4xx with the JSON error shape, returning its code. */
async function errorCode(response: Response | Promise<Response>, status: number): Promise<string> {
  const res = await response;
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/application\/json/);
  const body = await res.json<{ error: { code: string; message: string } }>();
  expect(typeof body.error.message).toBe('string');
  return body.error.code;
}

async function versionCount(model: string): Promise<number> {
  const row = await env.DB.prepare('SELECT COUNT(*) AS n FROM versions v JOIN models m ON m.id = v.model_id WHERE m.name = ?').bind(model).first<{ n: number }>();
  return row?.n ?? 0;
}

function onnxLike(): Uint8Array {
  // ModelProto: ir_version (field 1, varint) = 8, then producer_name (field 2) = "t".
  return new Uint8Array([0x08, 0x08, 0x12, 0x01, 0x74, ...crypto.getRandomValues(new Uint8Array(32))]);
}

describe('bad input gives a 4xx JSON error and writes nothing', () => {
  let publisher: string;
  let model: string;
  beforeAll(async () => {
    publisher = (await newKey('publisher')).key;
    model = uniqueName('bad');
    await publishApproved(publisher, model);
  });

  it('malformed JSON body', async () => {
    const res = call(`/v1/models/${model}/rollout`, {
      method: 'PUT', key: publisher, body: '{"weights": [', headers: { 'content-type': 'application/json' },
    });
    expect(await errorCode(res, 400)).toBe('malformed_body');
  });

  it('schema violations name the field', async () => {
    const res = await call('/v1/models', { method: 'POST', key: publisher, json: { name: 'Bad Name!' } });
    expect(res.status).toBe(400);
    expect((await res.json<{ error: { code: string; message: string } }>()).error).toMatchObject({ code: 'invalid_request', message: expect.stringMatching(/name/) });
  });

  it('oversized upload is refused before streaming', async () => {
    const big = bundle(1024 * 1024); // limit in tests is 1 MiB, this is 1 MiB + 12 bytes
    expect(await errorCode(upload(publisher, model, big), 413)).toBe('too_large');
    expect(await versionCount(model)).toBe(1);
  });

  it('upload body shorter than its Content-Length', async () => {
    const bytes = bundle(4096);
    const digest = await sha256(bytes);
    const short = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes.subarray(0, 1000));
        controller.close();
      },
    });
    const res = await call(`/v1/models/${model}/versions`, {
      method: 'POST', key: publisher, body: short,
      headers: { 'content-length': String(bytes.length), 'x-content-sha256': digest, 'content-type': 'application/octet-stream' },
    });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(await env.ARTIFACTS.head(artifactKey(digest))).toBeNull();
    expect(await versionCount(model)).toBe(1);
  });

  it('truncated artifact (digest of the full file, bytes of half) is a digest mismatch', async () => {
    const bytes = bundle(4096);
    expect(await errorCode(upload(publisher, model, bytes.subarray(0, 2048), { digest: await sha256(bytes) }), 422)).toBe('digest_mismatch');
    expect(await versionCount(model)).toBe(1);
  });

  it('bundle truncated inside its header, and non-model bytes, are format errors', async () => {
    expect(await errorCode(upload(publisher, model, new TextEncoder().encode('TESSERA\0\x01')), 422)).toBe('bad_format');
    expect(await errorCode(upload(publisher, model, new TextEncoder().encode('{"not": "a model"}')), 422)).toBe('bad_format');
    expect(await errorCode(upload(publisher, model, new Uint8Array(0)), 422)).toBe('bad_format');
    expect(await versionCount(model)).toBe(1);
  });

  it('accepts an ONNX ModelProto and records its format', async () => {
    const res = await upload(publisher, uniqueName('onnx'), onnxLike());
    expect(res.status).toBe(201);
    expect((await res.json<{ format: string }>()).format).toBe('onnx');
  });

  it('missing or malformed digest header, bad metadata', async () => {
    const bytes = bundle();
    expect(await errorCode(upload(publisher, model, bytes, { digest: 'abc' }), 400)).toBe('invalid_request');
    expect(await errorCode(upload(publisher, model, bytes, { headers: { 'x-tessera-meta': '!!!' } }), 400)).toBe('invalid_metadata');
    expect(await errorCode(upload(publisher, model, bytes, { meta: { metrics: { acc: 'high' } } }), 400)).toBe('invalid_metadata');
    expect(await errorCode(upload(publisher, model, bytes, { meta: { lineage: { parent: 99 } } }), 422)).toBe('unknown_parent');
    expect(await versionCount(model)).toBe(1);
  });

  it('unknown model or version', async () => {
    expect(await errorCode(call('/v1/models/nope-nope', { key: publisher }), 404)).toBe('not_found');
    expect(await errorCode(call(`/v1/models/${model}/versions/v42`, { key: publisher }), 404)).toBe('not_found');
    expect(await errorCode(promote(publisher, model, 42), 404)).toBe('not_found');
    expect(await errorCode(call(`/v1/models/${model}/versions/abc`, { key: publisher }), 400)).toBe('invalid_request');
    expect(await errorCode(call('/v1/no/such/route', { key: publisher }), 404)).toBe('not_found');
  });

  it('invalid rollout weights', async () => {
    const put = (json: unknown) => call(`/v1/models/${model}/rollout`, { method: 'PUT', key: publisher, json });
    expect(await errorCode(put({ weights: [{ version: 1, weight: 90 }] }), 422)).toBe('invalid_weights');
    expect(await errorCode(put({ weights: [{ version: 1, weight: 60 }, { version: 1, weight: 40 }] }), 422)).toBe('invalid_weights');
    expect(await errorCode(put({ weights: [{ version: 1, weight: 99.999 }, { version: 1, weight: 0.001 }] }), 422)).toBe('invalid_weights');
    expect(await errorCode(put({ weights: [{ version: 1, weight: 100 }], shadow: [1] }), 422)).toBe('invalid_weights');
    expect(await errorCode(put({ weights: [{ version: 1, weight: 50 }, { version: 7, weight: 50 }] }), 422)).toBe('unknown_version');
    expect(await errorCode(put({ weights: [] }), 400)).toBe('invalid_request');
    expect(await env.DB.prepare('SELECT 1 FROM rollouts r JOIN models m ON m.id = r.model_id WHERE m.name = ?').bind(model).first()).toBeNull();
  });

  it('promotion without approval, and to where it already is', async () => {
    const m = uniqueName('unapproved');
    await upload(publisher, m, bundle());
    expect(await errorCode(promote(publisher, m, 1), 422)).toBe('not_approved');
    expect(await errorCode(call(`/v1/models/${model}/aliases/production`, { method: 'PUT', key: publisher, json: { version: 1, expectedVersion: 5 } }), 409)).toBe('conflict');
  });
});
