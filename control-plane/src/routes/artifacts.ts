import { z } from '@hono/zod-openapi';
import { artifactKey } from '../artifact-store.js';
import { notFound } from '../errors.js';
import type { App } from '../route-kit.js';
import { securedRoute } from '../route-kit.js';
import { Digest, errorResponses } from '../schemas.js';

const download = securedRoute(
  ['client'],
  {
    method: 'get',
    path: '/v1/artifacts/{digest}',
    tags: ['rollout'],
    summary: 'Artifact bytes by sha256; immutable, so cacheable forever',
    request: { params: z.object({ digest: Digest.openapi({ param: { name: 'digest', in: 'path' } }) }) },
    responses: {
      200: { description: 'artifact bytes', content: { 'application/octet-stream': { schema: z.string().openapi({ format: 'binary' }) } } },
      304: { description: 'not modified' },
      ...errorResponses(404),
    },
  },
  { rateLimited: true },
);

export function registerArtifactRoutes(app: App): void {
  app.openapi(download, async (c) => {
    const { digest } = c.req.valid('param');
    const etag = `"${digest}"`;
    const headers = { ETag: etag, 'Cache-Control': 'private, max-age=31536000, immutable' };
    if (c.req.header('if-none-match')?.includes(etag)) return c.body(null, 304, headers);
    // Only registered digests are served: an object in R2 without a version row is not published.
    const registered = await c.env.DB.prepare('SELECT 1 AS ok FROM versions WHERE digest = ? LIMIT 1').bind(digest).first();
    const object = registered ? await c.env.ARTIFACTS.get(artifactKey(digest)) : null;
    if (!object) throw notFound(`artifact ${digest}`);
    return c.body(object.body, 200, { ...headers, 'Content-Type': 'application/octet-stream', 'Content-Length': String(object.size) });
  });
}
