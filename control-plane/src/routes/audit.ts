import { z } from '@hono/zod-openapi';
import type { App } from '../route-kit.js';
import { securedRoute } from '../route-kit.js';
import { jsonContent, ModelName } from '../schemas.js';

const Entry = z.object({
  id: z.number(),
  at: z.string(),
  actor: z.string(),
  action: z.string(),
  model: z.string().nullable(),
  version: z.number().nullable(),
  detail: z.unknown(),
});

const listAudit = securedRoute(['admin'], {
  method: 'get',
  path: '/v1/audit',
  tags: ['auth'],
  summary: 'The append-only audit log, newest first',
  request: {
    query: z.object({
      model: ModelName.optional(),
      before: z.coerce.number().int().positive().optional().openapi({ description: 'page: entries with id below this' }),
      limit: z.coerce.number().int().min(1).max(500).default(100),
    }),
  },
  responses: { 200: jsonContent(z.object({ entries: z.array(Entry) }), 'entries') },
});

export function registerAuditRoutes(app: App): void {
  app.openapi(listAudit, async (c) => {
    const { model, before, limit } = c.req.valid('query');
    const { results } = await c.env.DB.prepare(
      `SELECT id, at, actor, action, model, version, detail FROM audit_log
       WHERE (?1 IS NULL OR model = ?1) AND (?2 IS NULL OR id < ?2) ORDER BY id DESC LIMIT ?3`,
    )
      .bind(model ?? null, before ?? null, limit)
      .all<{ id: number; at: string; actor: string; action: string; model: string | null; version: number | null; detail: string }>();
    return c.json({ entries: results.map((r) => ({ ...r, detail: JSON.parse(r.detail) as unknown })) }, 200);
  });
}
