import type { MiddlewareHandler } from 'hono';
import type { AppBindings, AppEnv } from './env.js';
import { numberSetting } from './env.js';
import { ApiError } from './errors.js';
import { hashKey, type Scope } from './key-material.js';

export interface ApiKey {
  readonly id: string;
  readonly name: string;
  readonly scope: Scope;
  readonly rate_per_sec: number | null;
  readonly rate_burst: number | null;
}

/**
 * Per-isolate cache of key lookups, so hot client routes skip D1. A revocation made through this
 * isolate evicts at once; other isolates honour it within AUTH_CACHE_MS.
 */
const cache = new Map<string, { key: ApiKey | null; expires: number }>();
const CACHE_LIMIT = 1000;

export function forgetKey(id: string): void {
  for (const [hash, entry] of cache) if (entry.key?.id === id) cache.delete(hash);
}

async function lookup(env: AppEnv, plaintext: string): Promise<ApiKey | null> {
  const hash = await hashKey(plaintext);
  const now = Date.now();
  const hit = cache.get(hash);
  if (hit && hit.expires > now) return hit.key;
  const row = await env.DB.prepare('SELECT id, name, scope, rate_per_sec, rate_burst FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL')
    .bind(hash)
    .first<ApiKey>();
  const ttl = numberSetting(env.AUTH_CACHE_MS, 5000);
  // Only known keys are cached: an unknown key may be created a moment later.
  if (row && ttl > 0) {
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(hash, { key: row, expires: now + ttl });
  }
  return row;
}

/**
 * Admin keys pass every check; otherwise the key's scope must be listed. 401 means "who are
 * you?" (missing, unknown or revoked key), 403 means "not allowed with this key".
 */
export function requireScope(...allowed: Scope[]): MiddlewareHandler<AppBindings> {
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match?.[1]) throw new ApiError(401, 'unauthorized', 'missing API key (Authorization: Bearer <key>)');
    const key = await lookup(c.env, match[1]);
    if (!key) throw new ApiError(401, 'unauthorized', 'unknown or revoked API key');
    if (key.scope !== 'admin' && !allowed.includes(key.scope)) {
      throw new ApiError(403, 'forbidden', `this route needs scope ${['admin', ...allowed].join(' or ')}; key has ${key.scope}`);
    }
    c.set('key', key);
    await next();
  };
}
