import { cors } from 'hono/cors';
import type { MiddlewareHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { AppEnv } from './env.js';
import { ApiError, errorBody } from './errors.js';
import { newApp, type App } from './route-kit.js';
import { registerArtifactRoutes } from './routes/artifacts.js';
import { registerAuditRoutes } from './routes/audit.js';
import { registerKeyRoutes } from './routes/keys.js';
import { registerMetaRoutes } from './routes/meta.js';
import { registerModelRoutes } from './routes/models.js';
import { registerRolloutRoutes } from './routes/rollout.js';
import { registerStageRoutes } from './routes/stages.js';

/** Hono's CORS middleware for one CORS_ORIGINS value, built once per isolate rather than per request. */
const corsByOrigins = new Map<string, MiddlewareHandler>();

function corsFor(setting: string): MiddlewareHandler {
  let middleware = corsByOrigins.get(setting);
  if (!middleware) {
    const origins = setting.split(',').map((o) => o.trim());
    middleware = cors({
      origin: origins.includes('*') ? '*' : origins,
      allowHeaders: ['Authorization', 'Content-Type', 'If-None-Match', 'x-content-sha256', 'x-tessera-meta'],
      allowMethods: ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS'],
      exposeHeaders: ['ETag', 'Retry-After'],
      maxAge: 600,
    });
    corsByOrigins.set(setting, middleware);
  }
  return middleware;
}

export function buildApp(): App {
  const app = newApp();

  app.use('*', (c, next) => corsFor((c.env as AppEnv).CORS_ORIGINS)(c, next));

  registerMetaRoutes(app);
  registerKeyRoutes(app);
  registerModelRoutes(app);
  registerStageRoutes(app);
  registerRolloutRoutes(app);
  registerArtifactRoutes(app);
  registerAuditRoutes(app);

  app.notFound((c) => c.json(errorBody('not_found', `no route for ${c.req.method} ${new URL(c.req.url).pathname}`), 404));
  app.onError((error, c) => {
    if (error instanceof ApiError) return c.json(errorBody(error.code, error.message, error.detail), error.status);
    // Hono raises HTTPException(400) for bodies its validator cannot parse (malformed JSON).
    if (error instanceof HTTPException && error.status < 500) {
      return c.json(errorBody(error.status === 400 ? 'malformed_body' : 'bad_request', error.message), error.status);
    }
    console.error('unhandled error', error);
    return c.json(errorBody('internal', 'internal error'), 500);
  });
  return app;
}
