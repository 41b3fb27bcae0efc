import { z } from '@hono/zod-openapi';
import { forgetChannel } from '../channel.js';
import { ApiError, conflict } from '../errors.js';
import { auditStatement, getAlias, getModel, getVersion, now, toAlias } from '../registry.js';
import type { App } from '../route-kit.js';
import { securedRoute } from '../route-kit.js';
import { Alias, AliasName, errorResponses, jsonContent, ModelParams, VersionNumber, VersionParams } from '../schemas.js';

/** Only promotion to this alias needs an approval, and only it drives resolve and rollback. */
const PRODUCTION = 'production';

const AliasParams = ModelParams.extend({ alias: AliasName.openapi({ param: { name: 'alias', in: 'path' }, example: 'production' }) });
const Approval = z.object({ model: z.string(), version: z.number(), stage: z.string(), approvedBy: z.string(), approvedAt: z.string(), note: z.string() });

const approve = securedRoute(['admin'], {
  method: 'post',
  path: '/v1/models/{name}/versions/{version}/approve',
  tags: ['stages'],
  summary: 'Approve a version for a stage (required before promotion to production); idempotent',
  request: {
    params: VersionParams,
    body: { required: false, ...jsonContent(z.object({ stage: AliasName.default(PRODUCTION), note: z.string().max(1000).default('') }), 'approval') },
  },
  responses: { 200: jsonContent(Approval, 'approval'), ...errorResponses(404) },
});

const promote = securedRoute(['publisher'], {
  method: 'put',
  path: '/v1/models/{name}/aliases/{alias}',
  tags: ['stages'],
  summary: 'Point an alias (staging, production, custom) at a version, atomically',
  description:
    'Compare-and-swap: the alias moves only if it still points where this request read it, and, when `expectedVersion` is given ' +
    '(null = alias absent), only from that version; a concurrent change in between makes this one fail with 409. Production needs an approval and resets any rollout to 100% of the new version.',
  request: {
    params: AliasParams,
    body: { required: true, ...jsonContent(z.object({ version: VersionNumber, expectedVersion: VersionNumber.nullable().optional() }), 'target') },
  },
  responses: { 200: jsonContent(Alias, 'alias after the move'), ...errorResponses(404, 409, 422) },
});

const rollback = securedRoute(['publisher'], {
  method: 'post',
  path: '/v1/models/{name}/aliases/{alias}/rollback',
  tags: ['stages'],
  summary: 'Move an alias back to the version it pointed at before its last promotion',
  description: 'For production this also clears any rollout, so every client gets the previous production version.',
  request: { params: AliasParams },
  responses: { 200: jsonContent(Alias, 'alias after rollback'), ...errorResponses(404, 409) },
});

export function registerStageRoutes(app: App): void {
  app.openapi(approve, async (c) => {
    const { name, version } = c.req.valid('param');
    // The body is optional; when it is absent the validator passes nothing and the defaults apply here.
    const { stage = PRODUCTION, note = '' } = c.req.valid('json') ?? {};
    const db = c.env.DB;
    const actor = c.var.key.id;
    const model = await getModel(db, name);
    await getVersion(db, model, version);
    const [, , row] = await db.batch([
      db.prepare('INSERT INTO approvals (model_id, number, stage, approved_by, approved_at, note) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING').bind(
        model.id, version, stage, actor, now(), note,
      ),
      auditStatement(db, { actor, action: 'version.approve', model: name, version, detail: { stage, note } }, true),
      db.prepare('SELECT approved_by, approved_at, note FROM approvals WHERE model_id = ? AND number = ? AND stage = ?').bind(model.id, version, stage),
    ]);
    const approval = row!.results[0] as { approved_by: string; approved_at: string; note: string };
    return c.json({ model: name, version, stage, approvedBy: approval.approved_by, approvedAt: approval.approved_at, note: approval.note }, 200);
  });

  app.openapi(promote, async (c) => {
    const { name, alias } = c.req.valid('param');
    const { version, expectedVersion } = c.req.valid('json');
    const db = c.env.DB;
    const actor = c.var.key.id;
    const model = await getModel(db, name);
    const target = await getVersion(db, model, version);
    if (alias === PRODUCTION && !target.approved_for?.split(',').includes(PRODUCTION)) {
      throw new ApiError(422, 'not_approved', `${name} v${version} has no production approval; an admin must approve it first`);
    }
    const current = await getAlias(db, model.id, alias);
    if (expectedVersion !== undefined && (current?.number ?? null) !== expectedVersion) {
      throw conflict(`${alias} is at ${current ? `v${current.number}` : 'nothing'}, not the expected ${expectedVersion === null ? 'nothing' : `v${expectedVersion}`}`);
    }
    if (current?.number === version) throw conflict(`${alias} already points at v${version}`);

    // revision -1 never matches, so when two requests both create the alias, the second one's
    // ON CONFLICT update is a no-op and it loses.
    const seen = current?.revision ?? -1;
    const at = now();
    const statements = [
      db
        .prepare(
          `INSERT INTO aliases (model_id, name, number, previous_number, revision, updated_at, updated_by) VALUES (?, ?, ?, NULL, 0, ?, ?)
           ON CONFLICT (model_id, name) DO UPDATE SET number = excluded.number, previous_number = aliases.number,
             revision = aliases.revision + 1, updated_at = excluded.updated_at, updated_by = excluded.updated_by
           WHERE aliases.revision = ?`,
        )
        .bind(model.id, alias, version, at, actor, seen),
      auditStatement(db, { actor, action: 'alias.promote', model: name, version, detail: { alias, from: current?.number ?? null } }, true),
    ];
    if (alias === PRODUCTION) {
      // Runs only if the audit row (hence the promotion) was written.
      statements.push(db.prepare('DELETE FROM rollouts WHERE model_id = ? AND changes() = 1').bind(model.id));
    }
    const [moved] = await db.batch(statements);
    if (moved?.meta.changes !== 1) throw conflict(`${alias} of ${name} was changed concurrently; re-read and retry`);
    forgetChannel(name);
    return c.json(toAlias((await getAlias(db, model.id, alias))!), 200);
  });

  app.openapi(rollback, async (c) => {
    const { name, alias } = c.req.valid('param');
    const db = c.env.DB;
    const actor = c.var.key.id;
    const model = await getModel(db, name);
    const current = await getAlias(db, model.id, alias);
    if (!current) throw new ApiError(404, 'not_found', `${name} has no ${alias} alias`);
    if (current.previous_number === null) throw conflict(`${alias} of ${name} has no previous version to roll back to`);
    const statements = [
      db
        .prepare(
          `UPDATE aliases SET number = previous_number, previous_number = NULL, revision = revision + 1, updated_at = ?, updated_by = ?
           WHERE model_id = ? AND name = ? AND revision = ?`,
        )
        .bind(now(), actor, model.id, alias, current.revision),
      auditStatement(db, { actor, action: 'alias.rollback', model: name, version: current.previous_number, detail: { alias, from: current.number } }, true),
    ];
    if (alias === PRODUCTION) statements.push(db.prepare('DELETE FROM rollouts WHERE model_id = ? AND changes() = 1').bind(model.id));
    const [moved] = await db.batch(statements);
    if (moved?.meta.changes !== 1) throw conflict(`${alias} of ${name} was changed concurrently; re-read and retry`);
    forgetChannel(name);
    return c.json(toAlias((await getAlias(db, model.id, alias))!), 200);
  });
}
