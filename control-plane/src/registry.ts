import type { z } from '@hono/zod-openapi';
import { notFound } from './errors.js';
import type { Alias, Model, RolloutConfig, Version, VersionMetadata } from './schemas.js';

/** D1 access for the registry tables; routes compose these reads with batched writes. */

export interface ModelRow {
  id: number;
  name: string;
  description: string;
  created_at: string;
}

export interface VersionRow {
  model_id: number;
  number: number;
  digest: string;
  size: number;
  format: 'tessera' | 'onnx';
  signature: string;
  key_id: string;
  metadata: string;
  reference_profile: string | null;
  created_at: string;
  created_by: string;
  approved_for: string | null;
}

interface AliasRow {
  name: string;
  number: number;
  previous_number: number | null;
  revision: number;
  updated_at: string;
  updated_by: string;
}

export const now = () => new Date().toISOString();

export async function getModel(db: D1Database, name: string): Promise<ModelRow> {
  const row = await db.prepare('SELECT id, name, description, created_at FROM models WHERE name = ?').bind(name).first<ModelRow>();
  if (!row) throw notFound(`model ${name}`);
  return row;
}

const VERSION_COLUMNS = `v.model_id, v.number, v.digest, v.size, v.format, v.signature, v.key_id, v.metadata,
  v.reference_profile IS NOT NULL AS reference_profile, v.created_at, v.created_by,
  (SELECT group_concat(stage) FROM approvals a WHERE a.model_id = v.model_id AND a.number = v.number) AS approved_for`;

export async function findVersion(db: D1Database, modelId: number, number: number): Promise<VersionRow | null> {
  return db.prepare(`SELECT ${VERSION_COLUMNS} FROM versions v WHERE v.model_id = ? AND v.number = ?`).bind(modelId, number).first<VersionRow>();
}

export async function getVersion(db: D1Database, model: ModelRow, number: number): Promise<VersionRow> {
  const row = await findVersion(db, model.id, number);
  if (!row) throw notFound(`version ${model.name} v${number}`);
  return row;
}

export async function listVersions(db: D1Database, modelId: number): Promise<VersionRow[]> {
  const { results } = await db.prepare(`SELECT ${VERSION_COLUMNS} FROM versions v WHERE v.model_id = ? ORDER BY v.number`).bind(modelId).all<VersionRow>();
  return results;
}

export async function getAlias(db: D1Database, modelId: number, name: string): Promise<AliasRow | null> {
  return db.prepare('SELECT name, number, previous_number, revision, updated_at, updated_by FROM aliases WHERE model_id = ? AND name = ?')
    .bind(modelId, name)
    .first<AliasRow>();
}

export async function getRollout(db: D1Database, modelId: number): Promise<z.infer<typeof RolloutConfig> | null> {
  const row = await db.prepare('SELECT config FROM rollouts WHERE model_id = ?').bind(modelId).first<{ config: string }>();
  return row ? (JSON.parse(row.config) as z.infer<typeof RolloutConfig>) : null;
}

export const artifactUrl = (origin: string, digest: string) => `${origin}/v1/artifacts/${digest}`;

export function toVersion(model: string, row: VersionRow, origin: string): z.infer<typeof Version> {
  return {
    model,
    version: row.number,
    digest: row.digest,
    size: row.size,
    format: row.format,
    signature: row.signature,
    keyId: row.key_id,
    artifactUrl: artifactUrl(origin, row.digest),
    metadata: JSON.parse(row.metadata) as VersionMetadata,
    hasReferenceProfile: Boolean(row.reference_profile),
    approvedFor: row.approved_for ? row.approved_for.split(',') : [],
    createdAt: row.created_at,
    createdBy: row.created_by,
  };
}

export async function describeModel(db: D1Database, model: ModelRow): Promise<z.infer<typeof Model>> {
  const [aliases, rollout] = await Promise.all([
    db.prepare('SELECT name, number, previous_number, revision, updated_at, updated_by FROM aliases WHERE model_id = ? ORDER BY name')
      .bind(model.id)
      .all<AliasRow>(),
    getRollout(db, model.id),
  ]);
  return {
    name: model.name,
    description: model.description,
    createdAt: model.created_at,
    aliases: aliases.results.map(toAlias),
    rollout,
  };
}

export function toAlias(row: AliasRow): z.infer<typeof Alias> {
  return { name: row.name, version: row.number, previous: row.previous_number, updatedAt: row.updated_at, updatedBy: row.updated_by };
}

/**
 * An audit entry as a statement to put in the same batch as the change it records. With
 * `ifChanged`, the row is written only when the statement just before it in the batch changed a
 * row (SQLite `changes()`), so a compare-and-swap that lost its race leaves no audit trace.
 */
export function auditStatement(
  db: D1Database,
  entry: { actor: string; action: string; model?: string; version?: number; detail?: unknown },
  ifChanged = false,
): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO audit_log (at, actor, action, model, version, detail) SELECT ?, ?, ?, ?, ?, ?${ifChanged ? ' WHERE changes() = 1' : ''}`,
    )
    .bind(now(), entry.actor, entry.action, entry.model ?? null, entry.version ?? null, JSON.stringify(entry.detail ?? {}));
}
