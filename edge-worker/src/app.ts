import { Hono } from 'hono';
import { cors } from 'hono/cors';
import { ApiError, errorBody, fromTessera } from './errors.js';
import { ModelCache, type LoaderLimits, type ModelStore } from './models.js';
import { parseFeeds, toJson } from './tensors.js';

export interface Env {
  readonly MODELS: ModelStore;
  readonly MAX_MODEL_BYTES?: string;
  readonly MAX_BODY_BYTES?: string;
  readonly MAX_CACHED_MODELS?: string;
  readonly MODEL_RECHECK_MS?: string;
  /** Comma-separated origins whose pages may call the worker ("*" for any). */
  readonly CORS_ORIGINS?: string;
}

function setting(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return value !== undefined && Number.isFinite(n) && n >= 0 ? n : fallback;
}

const limits = (env: Env): LoaderLimits => ({
  maxModelBytes: setting(env.MAX_MODEL_BYTES, 32 * 2 ** 20),
  maxCached: Math.max(1, setting(env.MAX_CACHED_MODELS, 2)),
  recheckMs: setting(env.MODEL_RECHECK_MS, 30_000),
});

export function buildApp(cpuKernels: WebAssembly.Module): Hono<{ Bindings: Env }> {
  // Module scope of the isolate: sessions outlive requests.
  const models = new ModelCache(cpuKernels);
  const app = new Hono<{ Bindings: Env }>();

  // Pages call predict straight from the browser, as they call the control plane.
  app.use('*', async (c, next) => {
    const origins = (c.env.CORS_ORIGINS ?? '*').split(',').map((o) => o.trim());
    return cors({ origin: origins.includes('*') ? '*' : origins, allowMethods: ['GET', 'POST', 'OPTIONS'], allowHeaders: ['Content-Type'], maxAge: 600 })(c, next);
  });

  app.get('/healthz', (c) => c.json({ ok: true }));

  app.get('/v1/models/:name', async (c) => {
    const name = c.req.param('name');
    const { graph, opset } = await models.model(c.env.MODELS, name, limits(c.env));
    let weightBytes = 0;
    for (const t of graph.initializers.values()) weightBytes += t.data.byteLength;
    return c.json({ name, inputs: graph.inputs, outputs: graph.outputs, opset, nodes: graph.nodes.length, weightBytes });
  });

  app.post('/v1/models/:name/predict', async (c) => {
    const maxBody = setting(c.env.MAX_BODY_BYTES, 8 * 2 ** 20);
    const declared = Number(c.req.header('content-length') ?? 0);
    if (declared > maxBody) throw new ApiError(413, 'body_too_large', `the body is ${declared} bytes; the limit is ${maxBody}`);
    const text = await c.req.text();
    if (text.length > maxBody) throw new ApiError(413, 'body_too_large', `the body is over the limit of ${maxBody} bytes`);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (e) {
      throw new ApiError(400, 'invalid_json', `the body is not JSON: ${(e as Error).message}`);
    }
    const name = c.req.param('name');
    const model = await models.model(c.env.MODELS, name, limits(c.env));
    const feeds = parseFeeds(body, model.graph.inputs);
    const session = await models.session(c.env.MODELS, name, limits(c.env), Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, t.dims])));
    const outputs = await session.run(feeds);
    return c.json({ model: name, backend: session.report().backend, outputs: toJson(outputs) });
  });

  app.notFound((c) => c.json(errorBody('not_found', `no route for ${c.req.method} ${new URL(c.req.url).pathname}`), 404));
  app.onError((error, c) => {
    const known = error instanceof ApiError ? error : fromTessera(error);
    if (known) return c.json(errorBody(known.code, known.message, known.detail), known.status);
    console.error('unhandled error', error);
    return c.json(errorBody('internal', 'internal error'), 500);
  });
  return app;
}
