// Load test for GET /v1/models/{name}/resolve against `wrangler dev` on loopback.
// Starts its own server on a throwaway state dir, seeds an admin key, publishes two versions,
// sets a 90/10 rollout, then runs autocannon for DURATION seconds over 1000 distinct client ids
// (after a short /healthz baseline).
// Prints req/s and latency percentiles and writes bench/results/control-plane-load.json.
import autocannon from 'autocannon';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyMigrations, CP_DIR, ensureSigningKey, seedAdminKey, startDev, waitForHealthy } from '../scripts/local.ts';

const DURATION = Number(process.env.DURATION ?? 10);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 10);
const PORT = Number(process.env.PORT ?? 18787);
const base = `http://127.0.0.1:${PORT}`;
const state = mkdtempSync(join(tmpdir(), 'tessera-load-'));

async function api(key, method, path, init = {}) {
  const res = await fetch(`${base}${path}`, { method, ...init, headers: { authorization: `Bearer ${key}`, ...init.headers } });
  const body = await res.json();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(body)}`);
  return body;
}

async function publish(key, seed) {
  const bytes = Buffer.alloc(4096, seed);
  bytes.write('TESSERA\0', 0, 'latin1');
  bytes.writeUInt32LE(1, 8);
  const digest = createHash('sha256').update(bytes).digest('hex');
  const v = await api(key, 'POST', '/v1/models/load/versions', {
    body: bytes,
    headers: { 'content-type': 'application/octet-stream', 'x-content-sha256': digest },
  });
  await api(key, 'POST', `/v1/models/load/versions/${v.version}/approve`);
  return v.version;
}

ensureSigningKey();
applyMigrations(state);
const admin = await seedAdminKey(state);
// Rate limit off for this run: we measure resolve itself, not the 429 path.
const server = startDev({ port: PORT, state, quiet: true, logLevel: 'warn', vars: { RATE_LIMIT_PER_SEC: '0' } });
try {
  await waitForHealthy(base, 90_000);
  const v1 = await publish(admin, 1);
  const v2 = await publish(admin, 2);
  await api(admin, 'PUT', '/v1/models/load/aliases/production', { body: JSON.stringify({ version: v1 }), headers: { 'content-type': 'application/json' } });
  await api(admin, 'PUT', '/v1/models/load/rollout', {
    body: JSON.stringify({ weights: [{ version: v1, weight: 90 }, { version: v2, weight: 10 }] }),
    headers: { 'content-type': 'application/json' },
  });
  const client = (await api(admin, 'POST', '/v1/keys', { body: JSON.stringify({ name: 'load', scope: 'client' }), headers: { 'content-type': 'application/json' } })).key;

  // Baseline: the cheapest route, to separate wrangler dev's own overhead from resolve's.
  const baseline = await autocannon({ url: `${base}/healthz`, connections: CONNECTIONS, duration: Math.min(5, DURATION) });
  let n = 0;
  const result = await autocannon({
    url: base,
    connections: CONNECTIONS,
    duration: DURATION,
    headers: { authorization: `Bearer ${client}` },
    requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: `/v1/models/load/resolve?client=device-${n++ % 1000}` }) }],
  });
  const figures = {
    when: new Date().toISOString(),
    target: 'GET /v1/models/{name}/resolve (wrangler dev, local, loopback)',
    durationSeconds: DURATION,
    connections: CONNECTIONS,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    reqPerSec: { mean: result.requests.average, min: result.requests.min },
    latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max },
    baselineHealthz: { reqPerSec: baseline.requests.average, p99Ms: baseline.latency.p99 },
    loadAverageAtEnd: (await import('node:os')).loadavg()[0],
    goal: { reqPerSec: 500, p99Ms: 20 },
    pass: result.requests.average >= 500 && result.latency.p99 <= 20 && result.non2xx === 0 && result.errors === 0,
  };
  console.log(JSON.stringify(figures, null, 2));
  const out = join(CP_DIR, '..', 'bench', 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'control-plane-load.json'), JSON.stringify(figures, null, 2) + '\n');
} finally {
  server.kill('SIGTERM');
  rmSync(state, { recursive: true, force: true });
}
