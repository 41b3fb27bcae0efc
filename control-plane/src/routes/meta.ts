import { createRoute, z } from '@hono/zod-openapi';
import type { App } from '../route-kit.js';
import { getSigner } from '../signing.js';
import { errorResponses, jsonContent } from '../schemas.js';
import { DOCS_HTML } from '../docs-page.js';

const signingKey = createRoute({
  method: 'get',
  path: '/v1/signing-key',
  tags: ['rollout'],
  summary: 'The Ed25519 public key clients verify artifact signatures with (public)',
  responses: {
    200: jsonContent(z.object({ alg: z.literal('Ed25519'), keyId: z.string(), publicKey: z.string().openapi({ description: 'base64url raw 32 bytes' }) }), 'public key'),
    ...errorResponses(503),
  },
});

const health = createRoute({
  method: 'get',
  path: '/healthz',
  tags: ['meta'],
  summary: 'Liveness (public)',
  responses: { 200: jsonContent(z.object({ ok: z.literal(true) }), 'alive') },
});

export function registerMetaRoutes(app: App): void {
  app.openapi(health, (c) => c.json({ ok: true as const }, 200));

  app.openapi(signingKey, async (c) => {
    const { publicKey, keyId } = await getSigner(c.env);
    c.header('Cache-Control', 'public, max-age=300');
    return c.json({ alg: 'Ed25519' as const, keyId, publicKey }, 200);
  });

  app.openAPIRegistry.registerComponent('securitySchemes', 'apiKey', {
    type: 'http',
    scheme: 'bearer',
    description: 'API key (tsk_...) with scope admin, publisher or client',
  });
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: { title: 'Tessera control plane', version: '1.0.0', description: 'Model registry, rollout and API keys.' },
  });
  app.get('/docs', (c) => c.html(DOCS_HTML));
}
