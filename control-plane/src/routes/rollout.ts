import { z } from '@hono/zod-openapi';
import { loadChannel, forgetChannel, type ChannelVersion } from '../channel.js';
import { ApiError } from '../errors.js';
import { numberSetting } from '../env.js';
import { artifactUrl, auditStatement, describeModel, getModel, now } from '../registry.js';
import type { App } from '../route-kit.js';
import { securedRoute } from '../route-kit.js';
import { clientBucket, invalidWeights, pickVersion } from '../rollout.js';
import { errorResponses, jsonContent, Model, ModelParams, RolloutConfig } from '../schemas.js';

const setRollout = securedRoute(['publisher'], {
  method: 'put',
  path: '/v1/models/{name}/rollout',
  tags: ['rollout'],
  summary: 'Set the weighted channel (e.g. 95% v3, 5% v4) and shadow versions',
  description: 'Weights are percents with at most two decimals and must sum to exactly 100. Shadow versions are returned alongside the assigned one for clients to run silently.',
  request: { params: ModelParams, body: { required: true, ...jsonContent(RolloutConfig, 'channel config') } },
  responses: { 200: jsonContent(Model, 'model with its new rollout'), ...errorResponses(404, 422) },
});

const clearRollout = securedRoute(['publisher'], {
  method: 'delete',
  path: '/v1/models/{name}/rollout',
  tags: ['rollout'],
  summary: 'Remove the rollout so every client gets the production alias',
  request: { params: ModelParams },
  responses: { 200: jsonContent(Model, 'model'), ...errorResponses(404) },
});

const Assigned = z.object({
  version: z.number(),
  digest: z.string(),
  size: z.number(),
  format: z.string(),
  artifactUrl: z.string(),
  signature: z.string().openapi({ description: 'base64url Ed25519 over tessera-artifact-v1\\nmodel\\nversion\\ndigest' }),
  keyId: z.string(),
});
const Resolution = Assigned.extend({ model: z.string(), bucket: z.number(), shadow: z.array(Assigned) }).openapi('Resolution');

const resolve = securedRoute(
  ['client'],
  {
    method: 'get',
    path: '/v1/models/{name}/resolve',
    tags: ['rollout'],
    summary: 'Which version this client gets (sticky per client id), with artifact URL, digest and signature',
    description: 'Answers carry an ETag and Cache-Control; send If-None-Match to get 304 when nothing changed.',
    request: { params: ModelParams, query: z.object({ client: z.string().min(1).max(256) }) },
    responses: { 200: jsonContent(Resolution, 'assignment'), 304: { description: 'not modified' }, ...errorResponses(404) },
  },
  { rateLimited: true },
);

function etagMatches(header: string | undefined, etag: string): boolean {
  return header !== undefined && header.split(',').some((t) => t.trim().replace(/^W\//, '') === etag || t.trim() === '*');
}

export function registerRolloutRoutes(app: App): void {
  app.openapi(setRollout, async (c) => {
    const { name } = c.req.valid('param');
    const config = c.req.valid('json');
    const problem = invalidWeights(config.weights);
    if (problem) throw new ApiError(422, 'invalid_weights', problem);
    if (config.shadow.some((s) => config.weights.some((w) => w.version === s))) {
      throw new ApiError(422, 'invalid_weights', 'a shadow version cannot also be weighted');
    }
    const db = c.env.DB;
    const model = await getModel(db, name);
    const wanted = [...new Set([...config.weights.map((w) => w.version), ...config.shadow])];
    const found = await db
      .prepare(`SELECT number FROM versions WHERE model_id = ? AND number IN (${wanted.map(() => '?').join(',')})`)
      .bind(model.id, ...wanted)
      .all<{ number: number }>();
    const missing = wanted.filter((v) => !found.results.some((r) => r.number === v));
    if (missing.length) throw new ApiError(422, 'unknown_version', `${name} has no version ${missing.map((v) => `v${v}`).join(', ')}`);
    const at = now();
    await db.batch([
      db.prepare(
        `INSERT INTO rollouts (model_id, config, updated_at, updated_by) VALUES (?, ?, ?, ?)
         ON CONFLICT (model_id) DO UPDATE SET config = excluded.config, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
      ).bind(model.id, JSON.stringify(config), at, c.var.key.id),
      auditStatement(db, { actor: c.var.key.id, action: 'rollout.set', model: name, detail: config }),
    ]);
    forgetChannel(name);
    return c.json(await describeModel(db, model), 200);
  });

  app.openapi(clearRollout, async (c) => {
    const { name } = c.req.valid('param');
    const db = c.env.DB;
    const model = await getModel(db, name);
    await db.batch([
      db.prepare('DELETE FROM rollouts WHERE model_id = ?').bind(model.id),
      auditStatement(db, { actor: c.var.key.id, action: 'rollout.clear', model: name }, true),
    ]);
    forgetChannel(name);
    return c.json(await describeModel(db, model), 200);
  });

  app.openapi(resolve, async (c) => {
    const { name } = c.req.valid('param');
    const { client } = c.req.valid('query');
    const [channel, bucket] = await Promise.all([loadChannel(c.env, name), clientBucket(name, client)]);
    const version = pickVersion(channel.weights, bucket);
    // Versions are immutable, so the assigned and shadow version numbers identify the answer.
    const etag = `"${[version, ...channel.shadow].join('+')}"`;
    c.header('ETag', etag);
    c.header('Cache-Control', `private, max-age=${numberSetting(c.env.RESOLVE_MAX_AGE, 30)}`);
    c.header('Vary', 'Authorization');
    if (etagMatches(c.req.header('if-none-match'), etag)) return c.body(null, 304);
    const origin = new URL(c.req.url).origin;
    const describe = (v: ChannelVersion) => ({ ...v, artifactUrl: artifactUrl(origin, v.digest) });
    const assigned = channel.versions.get(version)!;
    return c.json({ model: name, bucket, ...describe(assigned), shadow: channel.shadow.map((s) => describe(channel.versions.get(s)!)) }, 200);
  });
}
