import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mintKey } from '../src/key-material.js';

/** Local tooling shared by `npm run cp:dev` and the load test: wrangler, migrations, seeding. */

export const CP_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
export const WRANGLER_CONFIG = join(CP_DIR, 'wrangler.toml');
export const DEFAULT_STATE = join(CP_DIR, '.wrangler', 'state');

// wrangler's bin refuses Node < 22 by a version check alone; its CLI bundle runs fine on Node 20,
// which is what this machine has, so we call the bundle directly.
const WRANGLER_CLI = join(dirname(createRequire(import.meta.url).resolve('wrangler/package.json')), 'wrangler-dist', 'cli.js');

/**
 * Environment for every wrangler we start: no usage metrics, and no fetch of the `Request.cf`
 * object from workers.cloudflare.com (miniflare's default; it falls back to a placeholder after a
 * failed DNS lookup). Nothing here needs the network.
 */
export const WRANGLER_OFFLINE_ENV = { WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false' } as const;

export function wrangler(args: string[], options: { capture?: boolean } = {}): string {
  const result = spawnSync(process.execPath, ['--no-warnings', WRANGLER_CLI, ...args], {
    cwd: CP_DIR,
    encoding: 'utf8',
    stdio: options.capture ? ['ignore', 'pipe', 'pipe'] : ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, CI: '1', ...WRANGLER_OFFLINE_ENV },
  });
  if (result.status !== 0) throw new Error(`wrangler ${args.join(' ')} failed (${result.status}):\n${result.stderr ?? ''}${result.stdout ?? ''}`);
  return result.stdout ?? '';
}

/** Writes an Ed25519 signing key to .dev.vars unless one is already there. */
export function ensureSigningKey(devVars = join(CP_DIR, '.dev.vars')): void {
  const existing = existsSync(devVars) ? readFileSync(devVars, 'utf8') : '';
  if (/^SIGNING_KEY=/m.test(existing)) return;
  const jwk = JSON.stringify(generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' }));
  writeFileSync(devVars, `${existing}${existing && !existing.endsWith('\n') ? '\n' : ''}SIGNING_KEY='${jwk}'\n`, { mode: 0o600 });
  console.log(`wrote a new Ed25519 signing key to ${devVars}`);
}

export function applyMigrations(state = DEFAULT_STATE): void {
  wrangler(['d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', state, '--config', WRANGLER_CONFIG], { capture: true });
}

/**
 * Inserts an admin key if no active one exists and returns its plaintext, which is never stored
 * and so can only be shown now; returns undefined when an admin key was seeded before.
 */
export async function seedAdminKey(state = DEFAULT_STATE): Promise<string | undefined> {
  const { id, plaintext, hash } = await mintKey();
  // `d1 execute --local` reports no change counts, so the insert is followed by a read of our id.
  const sql =
    `INSERT INTO api_keys (id, name, scope, key_hash, created_at, created_by) ` +
    `SELECT '${id}', 'seeded admin', 'admin', '${hash}', '${new Date().toISOString()}', 'seed' ` +
    `WHERE NOT EXISTS (SELECT 1 FROM api_keys WHERE scope = 'admin' AND revoked_at IS NULL); ` +
    `SELECT COUNT(*) AS n FROM api_keys WHERE id = '${id}';`;
  const out = wrangler(['d1', 'execute', 'DB', '--local', '--persist-to', state, '--config', WRANGLER_CONFIG, '--json', '--command', sql], { capture: true });
  const results = JSON.parse(out) as { results?: { n?: number }[] }[];
  const seeded = results.at(-1)?.results?.[0]?.n === 1;
  return seeded ? plaintext : undefined;
}

/**
 * `logLevel: 'warn'` stops wrangler logging every request from its Node process, a third hop of
 * CPU per request that load tests should not pay.
 */
export function startDev(options: { port: number; state?: string; vars?: Record<string, string>; quiet?: boolean; logLevel?: 'warn' | 'info' }): ChildProcess {
  const logLevel = options.logLevel ? ['--log-level', options.logLevel] : [];
  const vars = Object.entries(options.vars ?? {}).flatMap(([k, v]) => ['--var', `${k}:${v}`]);
  return spawn(
    process.execPath,
    ['--no-warnings', WRANGLER_CLI, 'dev', '--config', WRANGLER_CONFIG, '--local', '--ip', '127.0.0.1', '--port', String(options.port),
      '--persist-to', options.state ?? DEFAULT_STATE, '--show-interactive-dev-session=false', ...logLevel, ...vars],
    { cwd: CP_DIR, stdio: options.quiet ? 'ignore' : 'inherit', env: { ...process.env, ...WRANGLER_OFFLINE_ENV } },
  );
}

export interface DevServer {
  /** wrangler dev's public socket: its dev proxy, which forwards to the worker. */
  readonly url: string;
  /** The worker's own socket in the same workerd (local D1, R2, Durable Objects), behind the proxy. */
  readonly workerUrl: string;
  dispose(): Promise<void>;
}

/**
 * wrangler dev started through wrangler's own API (the DevEnv its CLI builds), for the load test:
 * unlike the CLI it reports the worker's own socket. Two dev-only costs are measured apart from
 * the app this way:
 * - wrangler's dev proxy, a singleton Durable Object in a second workerd that re-sends every
 *   request over HTTP (for hot reload): about 1.6 ms of CPU per request here, more than the app;
 * - its local trace collector (X_LOCAL_OBSERVABILITY), which writes each request's spans to SQLite
 *   with an fsync: turned off here, it cut an empty worker's throughput 4-5x on this machine.
 */
export async function startDevServer(options: { port: number; state: string; vars?: Record<string, string> }): Promise<DevServer> {
  Object.assign(process.env, WRANGLER_OFFLINE_ENV, { X_LOCAL_OBSERVABILITY: 'false' });
  const { unstable_DevEnv: DevEnv } = createRequire(import.meta.url)('wrangler') as typeof import('wrangler');
  const env = new DevEnv();
  const workerUrl = new Promise<string>((resolve) => {
    env.on('reloadComplete', (event: { proxyData: { userWorkerUrl: { protocol: string; hostname: string; port: string } } }) => {
      const u = event.proxyData.userWorkerUrl;
      resolve(`${u.protocol}//${u.hostname}:${u.port}`);
    });
  });
  const worker = await env.startWorker({
    config: WRANGLER_CONFIG,
    bindings: Object.fromEntries(Object.entries(options.vars ?? {}).map(([k, value]) => [k, { type: 'plain_text', value }])),
    dev: { server: { hostname: '127.0.0.1', port: options.port }, inspector: false, persist: options.state, watch: false, logLevel: 'warn' },
  });
  const url = String(await worker.url).replace(/\/$/, '');
  return { url, workerUrl: await workerUrl, dispose: () => worker.dispose() };
}

export async function waitForHealthy(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`control plane at ${url} did not become healthy in ${timeoutMs} ms`);
}
