import { applyD1Migrations } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { ADMIN_KEY } from './helpers.js';
import { hashKey } from '../src/key-material.js';

declare global {
  namespace Cloudflare {
    interface Env {
      TEST_MIGRATIONS: import('cloudflare:test').D1Migration[];
      SIGNING_KEY: string;
    }
  }
}

await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
await env.DB.prepare(
  `INSERT INTO api_keys (id, name, scope, key_hash, created_at, created_by) VALUES ('a00000000000', 'test admin', 'admin', ?, '2025-01-01T00:00:00Z', 'seed')
   ON CONFLICT (id) DO NOTHING`,
)
  .bind(await hashKey(ADMIN_KEY))
  .run();
