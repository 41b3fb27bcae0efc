import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Scope } from '../src/key-material.js';
import { ADMIN_KEY, bundle, call, expectJson, newKey, promote, publishApproved, sha256, uniqueName, upload } from './helpers.js';

interface RouteCase {
  method: string;
  /** OpenAPI path template, used to check the matrix covers every documented route. */
  template: string;
  scope: Scope;
  /** The lowest scope that is not enough, or undefined when only admin sits above `scope`. */
  wrong: Scope;
  /** Performs the call with the given key against the fixture; returns the response. */
  run: (key: string | undefined) => Promise<Response>;
  /** Status the right scope gets. */
  ok: number;
}

const PUBLIC = ['GET /healthz', 'GET /v1/signing-key'];

describe('auth matrix: every route × (no key, wrong scope, revoked key, right scope)', () => {
  const keys: Record<Scope, string> = { admin: ADMIN_KEY, publisher: '', client: '' };
  const revoked: Record<Scope, string> = { admin: '', publisher: '', client: '' };
  let model: string;
  let digest: string;
  let throwaway: string[];
  let routes: RouteCase[];

  beforeAll(async () => {
    keys.publisher = (await newKey('publisher')).key;
    keys.client = (await newKey('client')).key;
    for (const scope of ['admin', 'publisher', 'client'] as const) {
      const made = await newKey(scope, `revoked ${scope}`);
      await expectJson(call(`/v1/keys/${made.id}`, { method: 'DELETE', key: ADMIN_KEY }), 200);
      revoked[scope] = made.key;
    }
    throwaway = await Promise.all([1, 2].map(async () => (await newKey('client')).id));

    // Fixture: v1 in production and staging→v2 (so staging can roll back), v2 approved.
    model = uniqueName('matrix');
    const v1Bytes = bundle();
    digest = await sha256(v1Bytes);
    const v1 = await expectJson<{ version: number }>(upload(keys.publisher, model, v1Bytes), 201);
    await expectJson(call(`/v1/models/${model}/versions/1/approve`, { method: 'POST', key: ADMIN_KEY }), 200);
    await expectJson(promote(keys.publisher, model, v1.version), 200);
    const v2 = await publishApproved(keys.publisher, model);
    await expectJson(promote(keys.publisher, model, 1, 'staging'), 200);
    await expectJson(promote(keys.publisher, model, v2, 'staging'), 200);

    const m = () => `/v1/models/${model}`;
    let revokeIndex = 0;
    routes = [
      { method: 'POST', template: '/v1/keys', scope: 'admin', wrong: 'publisher', ok: 201, run: (key) => call('/v1/keys', { method: 'POST', key, json: { name: 'm', scope: 'client' } }) },
      { method: 'GET', template: '/v1/keys', scope: 'admin', wrong: 'publisher', ok: 200, run: (key) => call('/v1/keys', { key }) },
      { method: 'DELETE', template: '/v1/keys/{id}', scope: 'admin', wrong: 'publisher', ok: 200, run: (key) => call(`/v1/keys/${throwaway[revokeIndex++ % 2]}`, { method: 'DELETE', key }) },
      { method: 'GET', template: '/v1/audit', scope: 'admin', wrong: 'publisher', ok: 200, run: (key) => call('/v1/audit', { key }) },
      { method: 'POST', template: '/v1/models/{name}/versions/{version}/approve', scope: 'admin', wrong: 'publisher', ok: 200, run: (key) => call(`${m()}/versions/2/approve`, { method: 'POST', key }) },
      { method: 'POST', template: '/v1/models', scope: 'publisher', wrong: 'client', ok: 201, run: (key) => call('/v1/models', { method: 'POST', key, json: { name: uniqueName('m') } }) },
      { method: 'GET', template: '/v1/models', scope: 'publisher', wrong: 'client', ok: 200, run: (key) => call('/v1/models', { key }) },
      { method: 'GET', template: '/v1/models/{name}', scope: 'publisher', wrong: 'client', ok: 200, run: (key) => call(m(), { key }) },
      { method: 'GET', template: '/v1/models/{name}/versions', scope: 'publisher', wrong: 'client', ok: 200, run: (key) => call(`${m()}/versions`, { key }) },
      { method: 'POST', template: '/v1/models/{name}/versions', scope: 'publisher', wrong: 'client', ok: 201, run: (key) => upload(key ?? '', model, bundle()) },
      { method: 'GET', template: '/v1/models/{name}/versions/{version}', scope: 'publisher', wrong: 'client', ok: 200, run: (key) => call(`${m()}/versions/1`, { key }) },
      { method: 'PUT', template: '/v1/models/{name}/versions/{version}/reference-profile', scope: 'publisher', wrong: 'client', ok: 200, run: (key) => call(`${m()}/versions/1/reference-profile`, { method: 'PUT', key, json: { bins: [1] } }) },
      { method: 'GET', template: '/v1/models/{name}/versions/{version}/reference-profile', scope: 'publisher', wrong: 'client', ok: 200, run: (key) => call(`${m()}/versions/1/reference-profile`, { key }) },
      { method: 'PUT', template: '/v1/models/{name}/aliases/{alias}', scope: 'publisher', wrong: 'client', ok: 200, run: (key) => call(`${m()}/aliases/canary`, { method: 'PUT', key, json: { version: 2 } }) },
      { method: 'POST', template: '/v1/models/{name}/aliases/{alias}/rollback', scope: 'publisher', wrong: 'client', ok: 200, run: (key) => call(`${m()}/aliases/staging/rollback`, { method: 'POST', key }) },
      { method: 'PUT', template: '/v1/models/{name}/rollout', scope: 'publisher', wrong: 'client', ok: 200, run: (key) => call(`${m()}/rollout`, { method: 'PUT', key, json: { weights: [{ version: 1, weight: 50 }, { version: 2, weight: 50 }] } }) },
      { method: 'DELETE', template: '/v1/models/{name}/rollout', scope: 'publisher', wrong: 'client', ok: 200, run: (key) => call(`${m()}/rollout`, { method: 'DELETE', key }) },
      { method: 'GET', template: '/v1/models/{name}/resolve', scope: 'client', wrong: 'publisher', ok: 200, run: (key) => call(`${m()}/resolve?client=abc`, { key }) },
      { method: 'GET', template: '/v1/artifacts/{digest}', scope: 'client', wrong: 'publisher', ok: 200, run: (key) => call(`/v1/artifacts/${digest}`, { key }) },
    ];
  });

  it('covers every documented route', async () => {
    const spec = await expectJson<{ paths: Record<string, Record<string, unknown>> }>(call('/openapi.json'), 200);
    const documented = Object.entries(spec.paths).flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`));
    const covered = [...routes.map((r) => `${r.method} ${r.template}`), ...PUBLIC];
    expect(documented.sort()).toEqual(covered.sort());
  });

  it('public routes need no key', async () => {
    for (const route of [...PUBLIC, 'GET /openapi.json']) expect((await call(route.split(' ')[1]!)).status).toBe(200);
    expect((await call('/docs')).headers.get('content-type')).toMatch(/text\/html/);
  });

  it('rejects, forbids and admits each route', async () => {
    // Sequential: the right-scope calls build on each other (profile set before it is read, ...).
    for (const route of routes) {
      const label = `${route.method} ${route.template}`;
      const none = await route.run(undefined);
      expect(none.status, `${label} without key`).toBe(401);
      expect((await none.json<{ error: { code: string } }>()).error.code).toBe('unauthorized');
      const wrong = await route.run(keys[route.wrong]);
      expect(wrong.status, `${label} with ${route.wrong} key`).toBe(403);
      expect((await wrong.json<{ error: { code: string } }>()).error.code).toBe('forbidden');
      expect((await route.run(revoked[route.scope])).status, `${label} with revoked ${route.scope} key`).toBe(401);
      expect((await route.run('tsk_000000000000_made-up')).status, `${label} with unknown key`).toBe(401);
      const right = await route.run(keys[route.scope]);
      expect(right.status, `${label} with ${route.scope} key: ${right.status === route.ok ? '' : await right.clone().text()}`).toBe(route.ok);
    }
  });

  it('stores only key hashes and makes revocation immediate', async () => {
    const made = await newKey('client', 'hash check');
    const row = await env.DB.prepare('SELECT key_hash FROM api_keys WHERE id = ?').bind(made.id).first<{ key_hash: string }>();
    expect(row?.key_hash).toMatch(/^[0-9a-f]{64}$/);
    const everything = JSON.stringify((await env.DB.prepare('SELECT * FROM api_keys').all()).results);
    expect(everything).not.toContain(made.key);
    expect((await call('/v1/signing-key', { key: made.key })).status).toBe(200);
    expect((await call(`/v1/models/${model}/resolve?client=z`, { key: made.key })).status).toBe(200);
    await expectJson(call(`/v1/keys/${made.id}`, { method: 'DELETE', key: ADMIN_KEY }), 200);
    expect((await call(`/v1/models/${model}/resolve?client=z`, { key: made.key })).status).toBe(401);
  });

  it('rate-limits client routes per key with 429 and Retry-After', async () => {
    // This key gets its own small bucket (burst 20, 1/s); another key keeps the default limits.
    const hot = (await expectJson<{ key: string }>(call('/v1/keys', { method: 'POST', key: ADMIN_KEY, json: { name: 'hot', scope: 'client', rateLimit: { perSec: 1, burst: 20 } } }), 201)).key;
    const cold = (await newKey('client', 'cold')).key;
    const statuses: number[] = [];
    for (let batch = 0; batch < 3; batch++) {
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => call(`/v1/models/${model}/resolve?client=${batch}-${i}`, { key: hot })));
      statuses.push(...results.map((r) => r.status));
      const limited = results.find((r) => r.status === 429);
      if (limited) {
        expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
        expect((await limited.json<{ error: { code: string } }>()).error.code).toBe('rate_limited');
      }
    }
    // 20 from the burst, plus whatever refilled at 1/s while the batches ran.
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(20);
    expect(statuses.filter((s) => s === 200).length).toBeLessThan(30);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
    expect((await call(`/v1/models/${model}/resolve?client=x`, { key: cold })).status).toBe(200);
  });

  it('answers CORS preflights for browser clients', async () => {
    const res = await call(`/v1/models/${model}/resolve?client=x`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
  });
});
