import type { AppEnv } from './env.js';
import { numberSetting } from './env.js';
import { notFound } from './errors.js';
import { getAlias, getRollout } from './registry.js';
import type { Weight } from './rollout.js';

export interface ChannelVersion {
  version: number;
  digest: string;
  size: number;
  format: string;
  signature: string;
  keyId: string;
}

/** What resolve needs for one model: the weighted split, shadows, and each version's artifact facts. */
export interface Channel {
  weights: Weight[];
  shadow: number[];
  versions: Map<number, ChannelVersion>;
}

/**
 * Resolve is the hot path, so channels are cached per isolate for RESOLVE_CACHE_MS. Writes made
 * through this isolate call `forgetChannel`; other isolates converge within the TTL (and clients
 * within the max-age they are sent).
 */
const cache = new Map<string, { channel: Channel | null; expires: number }>();

export function forgetChannel(model: string): void {
  cache.delete(model);
}

export async function loadChannel(env: AppEnv, model: string): Promise<Channel> {
  const now = Date.now();
  const hit = cache.get(model);
  const channel = hit && hit.expires > now ? hit.channel : await readChannel(env.DB, model);
  if (hit?.channel !== channel) {
    const ttl = numberSetting(env.RESOLVE_CACHE_MS, 2000);
    if (ttl > 0) cache.set(model, { channel, expires: now + ttl });
  }
  if (!channel) throw notFound(`a released version of model ${model}`);
  return channel;
}

/** A rollout config if one is set, else everyone on the production alias; null if neither exists. */
async function readChannel(db: D1Database, name: string): Promise<Channel | null> {
  const model = await db.prepare('SELECT id FROM models WHERE name = ?').bind(name).first<{ id: number }>();
  if (!model) return null;
  const rollout = await getRollout(db, model.id);
  let weights: Weight[];
  let shadow: number[] = [];
  if (rollout) {
    ({ weights, shadow } = rollout);
  } else {
    const production = await getAlias(db, model.id, 'production');
    if (!production) return null;
    weights = [{ version: production.number, weight: 100 }];
  }
  const numbers = [...weights.map((w) => w.version), ...shadow];
  const { results } = await db
    .prepare(
      `SELECT number AS version, digest, size, format, signature, key_id AS keyId FROM versions
       WHERE model_id = ? AND number IN (${numbers.map(() => '?').join(',')})`,
    )
    .bind(model.id, ...numbers)
    .all<ChannelVersion>();
  return { weights, shadow, versions: new Map(results.map((v) => [v.version, v])) };
}
