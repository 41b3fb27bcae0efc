import { z } from '@hono/zod-openapi';
import { ApiError, conflict } from '../errors.js';
import { numberSetting } from '../env.js';
import { storeArtifact } from '../artifact-store.js';
import { fromBase64Url } from '../../../core/sign/message.js';
import {
  auditStatement, describeModel, findVersion, getModel, getVersion, listVersions, now, toVersion, type ModelRow,
} from '../registry.js';
import type { App } from '../route-kit.js';
import { securedRoute } from '../route-kit.js';
import { getSigner } from '../signing.js';
import { Digest, errorResponses, jsonContent, Model, ModelName, ModelParams, Version, VersionMetadata, VersionParams } from '../schemas.js';

const createModel = securedRoute(['publisher'], {
  method: 'post',
  path: '/v1/models',
  tags: ['registry'],
  summary: 'Create a model (publishing a first version also creates it)',
  request: { body: { required: true, ...jsonContent(z.object({ name: ModelName, description: z.string().max(2000).default('') }), 'model') } },
  responses: { 201: jsonContent(Model, 'created'), ...errorResponses(409) },
});

const listModels = securedRoute(['publisher'], {
  method: 'get',
  path: '/v1/models',
  tags: ['registry'],
  summary: 'List models',
  responses: { 200: jsonContent(z.object({ models: z.array(z.object({ name: z.string(), description: z.string(), createdAt: z.string() })) }), 'models') },
});

const getModelRoute = securedRoute(['publisher'], {
  method: 'get',
  path: '/v1/models/{name}',
  tags: ['registry'],
  summary: 'A model with its aliases and rollout',
  request: { params: ModelParams },
  responses: { 200: jsonContent(Model, 'model'), ...errorResponses(404) },
});

const listVersionsRoute = securedRoute(['publisher'], {
  method: 'get',
  path: '/v1/models/{name}/versions',
  tags: ['registry'],
  summary: 'All versions of a model, oldest first',
  request: { params: ModelParams },
  responses: { 200: jsonContent(z.object({ versions: z.array(Version) }), 'versions'), ...errorResponses(404) },
});

const getVersionRoute = securedRoute(['publisher'], {
  method: 'get',
  path: '/v1/models/{name}/versions/{version}',
  tags: ['registry'],
  summary: 'One version',
  request: { params: VersionParams },
  responses: { 200: jsonContent(Version, 'version'), ...errorResponses(404) },
});

const publish = securedRoute(['publisher'], {
  method: 'post',
  path: '/v1/models/{name}/versions',
  tags: ['registry'],
  summary: 'Publish a new immutable version: the body is the artifact (Tessera bundle or ONNX)',
  description:
    'The body is streamed to R2 under its sha256 and verified (Content-Length, x-content-sha256, format header). ' +
    'Metadata and lineage travel as base64url JSON (VersionMetadata) in x-tessera-meta. The version number is assigned by the server.',
  request: {
    params: ModelParams,
    headers: z.object({
      'x-content-sha256': Digest,
      'x-tessera-meta': z.string().max(16_384).optional(),
    }),
    body: { required: true, content: { 'application/octet-stream': { schema: z.string().openapi({ format: 'binary' }) } }, description: 'artifact bytes' },
  },
  responses: { 201: jsonContent(Version, 'published'), ...errorResponses(404, 409, 411, 413, 422, 503) },
});

const ReferenceProfile = z.record(z.string(), z.unknown()).openapi('ReferenceProfile');
const putProfile = securedRoute(['publisher'], {
  method: 'put',
  path: '/v1/models/{name}/versions/{version}/reference-profile',
  tags: ['registry'],
  summary: 'Fill the version\'s reference telemetry profile slot (once; versions stay immutable)',
  request: { params: VersionParams, body: { required: true, ...jsonContent(ReferenceProfile, 'reference telemetry profile') } },
  responses: { 200: jsonContent(Version, 'version'), ...errorResponses(404, 409, 413) },
});

const getProfile = securedRoute(['publisher'], {
  method: 'get',
  path: '/v1/models/{name}/versions/{version}/reference-profile',
  tags: ['registry'],
  summary: 'The version\'s reference telemetry profile',
  request: { params: VersionParams },
  responses: { 200: jsonContent(ReferenceProfile, 'profile'), ...errorResponses(404) },
});

const MAX_PROFILE_BYTES = 512 * 1024;
const PUBLISH_ATTEMPTS = 5;

function parseMetadata(header: string | undefined): VersionMetadata {
  if (header === undefined) return {};
  const bytes = fromBase64Url(header);
  let json: unknown;
  try {
    if (!bytes) throw new Error('not base64url');
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes));
  } catch {
    throw new ApiError(400, 'invalid_metadata', 'x-tessera-meta must be base64url-encoded JSON');
  }
  const parsed = VersionMetadata.safeParse(json);
  if (!parsed.success) {
    throw new ApiError(400, 'invalid_metadata', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  }
  return parsed.data;
}

function uploadSize(header: string | undefined, max: number): number {
  if (header === undefined || !/^\d+$/.test(header)) throw new ApiError(411, 'length_required', 'uploads need a Content-Length header');
  const size = Number(header);
  if (size === 0) throw new ApiError(422, 'bad_format', 'empty artifact');
  if (size > max) throw new ApiError(413, 'too_large', `artifact is ${size} bytes; the limit is ${max}`);
  return size;
}

const isConstraint = (error: unknown, columns: string) => error instanceof Error && error.message.includes(`UNIQUE constraint failed: ${columns}`);

export function registerModelRoutes(app: App): void {
  app.openapi(createModel, async (c) => {
    const { name, description } = c.req.valid('json');
    const actor = c.var.key.id;
    const [inserted] = await c.env.DB.batch([
      c.env.DB.prepare('INSERT INTO models (name, description, created_at, created_by) VALUES (?, ?, ?, ?) ON CONFLICT(name) DO NOTHING').bind(
        name, description, now(), actor,
      ),
      auditStatement(c.env.DB, { actor, action: 'model.create', model: name }, true),
    ]);
    if (inserted?.meta.changes !== 1) throw conflict(`model ${name} already exists`);
    return c.json(await describeModel(c.env.DB, await getModel(c.env.DB, name)), 201);
  });

  app.openapi(listModels, async (c) => {
    const { results } = await c.env.DB.prepare('SELECT name, description, created_at FROM models ORDER BY name').all<ModelRow>();
    return c.json({ models: results.map((m) => ({ name: m.name, description: m.description, createdAt: m.created_at })) }, 200);
  });

  app.openapi(getModelRoute, async (c) => {
    return c.json(await describeModel(c.env.DB, await getModel(c.env.DB, c.req.valid('param').name)), 200);
  });

  app.openapi(listVersionsRoute, async (c) => {
    const model = await getModel(c.env.DB, c.req.valid('param').name);
    const origin = new URL(c.req.url).origin;
    return c.json({ versions: (await listVersions(c.env.DB, model.id)).map((v) => toVersion(model.name, v, origin)) }, 200);
  });

  app.openapi(getVersionRoute, async (c) => {
    const { name, version } = c.req.valid('param');
    const model = await getModel(c.env.DB, name);
    return c.json(toVersion(model.name, await getVersion(c.env.DB, model, version), new URL(c.req.url).origin), 200);
  });

  app.openapi(publish, async (c) => {
    const { name } = c.req.valid('param');
    const digest = c.req.valid('header')['x-content-sha256'];
    const metadata = parseMetadata(c.req.valid('header')['x-tessera-meta']);
    const size = uploadSize(c.req.header('content-length'), numberSetting(c.env.MAX_ARTIFACT_BYTES, 256 * 2 ** 20));
    const db = c.env.DB;
    const actor = c.var.key.id;
    const signer = await getSigner(c.env);

    // Cheap refusals before any bytes move. Versions are never deleted, so these checks stay true.
    const existing = await db.prepare('SELECT id FROM models WHERE name = ?').bind(name).first<{ id: number }>();
    const parent = metadata.lineage?.parent;
    if (parent !== undefined && (!existing || !(await findVersion(db, existing.id, parent)))) {
      throw new ApiError(422, 'unknown_parent', `parent version v${parent} of ${name} does not exist`);
    }
    const registeredAs = () =>
      db.prepare('SELECT v.number FROM versions v JOIN models m ON m.id = v.model_id WHERE m.name = ? AND v.digest = ?')
        .bind(name, digest)
        .first<{ number: number }>();
    const already = await registeredAs();
    if (already) throw conflict(`this artifact is already ${name} v${already.number}`, { version: already.number });
    if (!c.req.raw.body) throw new ApiError(411, 'length_required', 'upload has no body');

    const format = await storeArtifact(c.env.ARTIFACTS, c.req.raw.body, size, digest);

    // The number is picked optimistically and the insert retried if another publisher took it;
    // a second upload of the same bytes hits UNIQUE(model_id, digest) instead and loses with 409.
    for (let attempt = 0; attempt < PUBLISH_ATTEMPTS; attempt++) {
      const next = await db
        .prepare('SELECT COALESCE(MAX(number), 0) + 1 AS n FROM versions WHERE model_id = (SELECT id FROM models WHERE name = ?)')
        .bind(name)
        .first<{ n: number }>();
      const number = next!.n;
      const signature = await signer.sign({ model: name, version: number, digest });
      const createdAt = now();
      try {
        await db.batch([
          db.prepare('INSERT INTO models (name, description, created_at, created_by) VALUES (?, \'\', ?, ?) ON CONFLICT(name) DO NOTHING').bind(name, createdAt, actor),
          auditStatement(db, { actor, action: 'model.create', model: name }, true),
          db
            .prepare(
              `INSERT INTO versions (model_id, number, digest, size, format, signature, key_id, metadata, parent_number,
                 training_data_digest, produced_by, created_at, created_by)
               SELECT id, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? FROM models WHERE name = ?`,
            )
            .bind(
              number, digest, size, format, signature, signer.keyId, JSON.stringify(metadata), parent ?? null,
              metadata.lineage?.trainingDataDigest ?? null,
              metadata.lineage?.producedBy ? JSON.stringify(metadata.lineage.producedBy) : null,
              createdAt, actor, name,
            ),
          auditStatement(db, { actor, action: 'version.publish', model: name, version: number, detail: { digest, size, format } }),
        ]);
      } catch (error) {
        if (isConstraint(error, 'versions.model_id, versions.number')) continue;
        if (isConstraint(error, 'versions.model_id, versions.digest')) {
          const winner = await registeredAs();
          throw conflict(`this artifact was just published as ${name} v${winner?.number}`, { version: winner?.number });
        }
        throw error;
      }
      const model = await getModel(db, name);
      return c.json(toVersion(name, await getVersion(db, model, number), new URL(c.req.url).origin), 201);
    }
    throw conflict(`could not allocate a version number for ${name} after ${PUBLISH_ATTEMPTS} attempts; retry`);
  });

  app.openapi(putProfile, async (c) => {
    const { name, version } = c.req.valid('param');
    const body = JSON.stringify(c.req.valid('json'));
    if (body.length > MAX_PROFILE_BYTES) throw new ApiError(413, 'too_large', `reference profile over ${MAX_PROFILE_BYTES} bytes`);
    const model = await getModel(c.env.DB, name);
    await getVersion(c.env.DB, model, version);
    const [update] = await c.env.DB.batch([
      c.env.DB.prepare('UPDATE versions SET reference_profile = ? WHERE model_id = ? AND number = ? AND reference_profile IS NULL').bind(
        body, model.id, version,
      ),
      auditStatement(c.env.DB, { actor: c.var.key.id, action: 'version.reference_profile', model: name, version }, true),
    ]);
    if (update?.meta.changes !== 1) throw conflict(`${name} v${version} already has a reference profile`);
    return c.json(toVersion(name, await getVersion(c.env.DB, model, version), new URL(c.req.url).origin), 200);
  });

  app.openapi(getProfile, async (c) => {
    const { name, version } = c.req.valid('param');
    const model = await getModel(c.env.DB, name);
    await getVersion(c.env.DB, model, version);
    const row = await c.env.DB.prepare('SELECT reference_profile FROM versions WHERE model_id = ? AND number = ?')
      .bind(model.id, version)
      .first<{ reference_profile: string | null }>();
    if (!row?.reference_profile) throw new ApiError(404, 'not_found', `${name} v${version} has no reference profile yet`);
    return c.json(JSON.parse(row.reference_profile) as Record<string, unknown>, 200);
  });
}
