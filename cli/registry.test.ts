import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyMigrations, ensureSigningKey, seedAdminKey, startDev, waitForHealthy } from '../control-plane/scripts/local.js';
import { parseWeights, runRegistryCommand } from './registry.js';

/** Drives the CLI against a real `wrangler dev` (workerd, local D1/R2/DO) on a private port and state dir. */
describe('tessera registry CLI against wrangler dev', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-cli-'));
  const port = 18_000 + Math.floor(Math.random() * 2000);
  let server: ChildProcess;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    ensureSigningKey();
    applyMigrations(join(dir, 'state'));
    const admin = await seedAdminKey(join(dir, 'state'));
    server = startDev({ port, state: join(dir, 'state'), quiet: true });
    await waitForHealthy(`http://127.0.0.1:${port}`, 80_000);
    env = { TESSERA_URL: `http://127.0.0.1:${port}`, TESSERA_KEY: admin };
  });
  afterAll(() => {
    server?.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  async function run(...argv: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runRegistryCommand(argv, { out: (l) => out.push(l), err: (l) => err.push(l), env });
    return { code, out: out.join('\n'), err: err.join('\n') };
  }

  function artifact(seed: number): string {
    const bytes = Buffer.alloc(64, seed);
    bytes.write('TESSERA\0', 0, 'latin1');
    bytes.writeUInt32LE(1, 8);
    const file = join(dir, `m${seed}.tsr`);
    writeFileSync(file, bytes);
    return file;
  }

  it('publishes, promotes, rolls out and rolls back', async () => {
    const meta = join(dir, 'meta.json');
    writeFileSync(meta, JSON.stringify({ framework: 'tessera', tags: ['cli'] }));
    const v1 = await run('publish', artifact(1), '--model', 'cli-model', '--meta', meta, '--json');
    expect(v1.code, v1.err).toBe(0);
    expect(JSON.parse(v1.out)).toMatchObject({ version: 1, format: 'tessera', metadata: { framework: 'tessera', tags: ['cli'] } });
    const v2 = await run('publish', artifact(2), '--model', 'cli-model', '--parent', 'v1');
    expect(v2.out).toMatch(/published cli-model v2/);

    expect((await run('promote', 'cli-model', 'v1', '--to', 'production')).code).toBe(1); // not approved
    expect((await run('approve', 'cli-model', 'v1')).code).toBe(0);
    expect((await run('approve', 'cli-model', '2')).code).toBe(0);
    expect((await run('promote', 'cli-model', 'v1', '--to', 'production')).out).toBe('production -> v1');
    expect((await run('promote', 'cli-model', 'v2', '--to', 'production')).out).toBe('production -> v2 (was v1)');

    const rollout = await run('rollout', 'cli-model', '--weights', 'v2=95,v1=5', '--json');
    expect(JSON.parse(rollout.out).rollout.weights).toEqual([{ version: 2, weight: 95 }, { version: 1, weight: 5 }]);
    const bad = await run('rollout', 'cli-model', '--weights', 'v2=90,v1=5');
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/invalid_weights/);

    expect((await run('rollback', 'cli-model')).out).toBe('production rolled back to v1');
    const versions = await run('versions', 'cli-model', '--json');
    expect(JSON.parse(versions.out).versions.map((v: { version: number }) => v.version)).toEqual([1, 2]);
  });

  it('reports usage errors with exit code 2', async () => {
    expect((await run('promote', 'cli-model', 'v1')).code).toBe(2);
    expect((await run('frobnicate')).code).toBe(2);
    expect(() => parseWeights('v3=abc')).toThrow(/bad weight/);
  });
});
