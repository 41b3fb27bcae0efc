import { createRoute, OpenAPIHono, type RouteConfig } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { requireScope } from './auth.js';
import type { AppBindings } from './env.js';
import { ApiError } from './errors.js';
import type { Scope } from './key-material.js';
import { rateLimit } from './rate-limit.js';
import { errorResponses } from './schemas.js';

export type App = OpenAPIHono<AppBindings>;

/**
 * Declares an authenticated route: the scope check (and, for client routes, the rate limit) runs
 * before body validation, and the OpenAPI entry records the scope and the error shapes.
 */
export function securedRoute<const R extends Omit<RouteConfig, 'security' | 'middleware'>>(
  scopes: Scope[],
  config: R,
  options: { rateLimited?: boolean } = {},
) {
  const middleware: MiddlewareHandler<AppBindings>[] = [requireScope(...scopes)];
  if (options.rateLimited) middleware.push(rateLimit);
  return createRoute({
    ...config,
    security: [{ apiKey: [] }],
    description: `${config.description ?? ''}\n\nScope: ${['admin', ...scopes].join(' | ')}.${options.rateLimited ? ' Rate limited per key.' : ''}`.trim(),
    middleware,
    responses: { ...errorResponses(400, 401, 403, ...(options.rateLimited ? ([429] as const) : [])), ...config.responses },
  });
}

/** Validation failures become our JSON error shape instead of the library's default. */
export function newApp(): App {
  return new OpenAPIHono<AppBindings>({
    defaultHook: (result) => {
      if (!result.success) {
        const issues = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
        throw new ApiError(400, 'invalid_request', issues.join('; '), { target: result.target });
      }
    },
  });
}
