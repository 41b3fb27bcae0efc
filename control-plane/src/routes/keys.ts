import { z } from '@hono/zod-openapi';
import { forgetKey } from '../auth.js';
import { notFound } from '../errors.js';
import { mintKey } from '../key-material.js';
import { auditStatement, now } from '../registry.js';
import type { App } from '../route-kit.js';
import { securedRoute } from '../route-kit.js';
import { errorResponses, jsonContent, Scope } from '../schemas.js';

const RateLimit = z
  .object({ perSec: z.number().positive().max(1e6), burst: z.number().int().positive().max(1e7) })
  .openapi({ description: 'token bucket for client routes; defaults to RATE_LIMIT_PER_SEC / RATE_LIMIT_BURST' });
const KeyInfo = z
  .object({
    id: z.string(), name: z.string(), scope: Scope, createdAt: z.string(), createdBy: z.string(), revokedAt: z.string().nullable(),
    rateLimit: RateLimit.nullable(),
  })
  .openapi('ApiKey');

const createKey = securedRoute(['admin'], {
  method: 'post',
  path: '/v1/keys',
  tags: ['auth'],
  summary: 'Create an API key; the plaintext is returned once and only its hash is stored',
  request: { body: { required: true, ...jsonContent(z.object({ name: z.string().min(1).max(128), scope: Scope, rateLimit: RateLimit.optional() }), 'key to create') } },
  responses: { 201: jsonContent(KeyInfo.extend({ key: z.string() }), 'created key (plaintext shown once)') },
});

const listKeys = securedRoute(['admin'], {
  method: 'get',
  path: '/v1/keys',
  tags: ['auth'],
  summary: 'List API keys (never their plaintext)',
  responses: { 200: jsonContent(z.object({ keys: z.array(KeyInfo) }), 'keys') },
});

const revokeKey = securedRoute(['admin'], {
  method: 'delete',
  path: '/v1/keys/{id}',
  tags: ['auth'],
  summary: 'Revoke an API key',
  request: { params: z.object({ id: z.string().regex(/^[0-9a-f]{12}$/).openapi({ param: { name: 'id', in: 'path' } }) }) },
  responses: { 200: jsonContent(KeyInfo, 'revoked key'), ...errorResponses(404) },
});

interface KeyRow {
  id: string;
  name: string;
  scope: z.infer<typeof Scope>;
  created_at: string;
  created_by: string;
  revoked_at: string | null;
  rate_per_sec: number | null;
  rate_burst: number | null;
}
const toKeyInfo = (r: KeyRow) => ({ id: r.id, name: r.name, scope: r.scope, createdAt: r.created_at, createdBy: r.created_by, revokedAt: r.revoked_at,
  rateLimit: r.rate_per_sec === null ? null : { perSec: r.rate_per_sec, burst: r.rate_burst ?? Math.ceil(r.rate_per_sec * 2) },
});

export function registerKeyRoutes(app: App): void {
  app.openapi(createKey, async (c) => {
    const { name, scope, rateLimit } = c.req.valid('json');
    const actor = c.var.key.id;
    const minted = await mintKey();
    const createdAt = now();
    await c.env.DB.batch([
      c.env.DB.prepare(
        'INSERT INTO api_keys (id, name, scope, key_hash, created_at, created_by, rate_per_sec, rate_burst) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ).bind(minted.id, name, scope, minted.hash, createdAt, actor, rateLimit?.perSec ?? null, rateLimit?.burst ?? null),
      auditStatement(c.env.DB, { actor, action: 'key.create', detail: { id: minted.id, name, scope } }),
    ]);
    return c.json({ id: minted.id, name, scope, createdAt, createdBy: actor, revokedAt: null, rateLimit: rateLimit ?? null, key: minted.plaintext }, 201);
  });

  app.openapi(listKeys, async (c) => {
    const { results } = await c.env.DB.prepare('SELECT id, name, scope, created_at, created_by, revoked_at, rate_per_sec, rate_burst FROM api_keys ORDER BY created_at').all<KeyRow>();
    return c.json({ keys: results.map(toKeyInfo) }, 200);
  });

  app.openapi(revokeKey, async (c) => {
    const { id } = c.req.valid('param');
    const actor = c.var.key.id;
    const [, , row] = await c.env.DB.batch([
      c.env.DB.prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').bind(now(), id),
      auditStatement(c.env.DB, { actor, action: 'key.revoke', detail: { id } }, true),
      c.env.DB.prepare('SELECT id, name, scope, created_at, created_by, revoked_at, rate_per_sec, rate_burst FROM api_keys WHERE id = ?').bind(id),
    ]);
    const key = (row?.results as KeyRow[] | undefined)?.[0];
    if (!key) throw notFound(`key ${id}`);
    forgetKey(id);
    return c.json(toKeyInfo(key), 200);
  });
}
