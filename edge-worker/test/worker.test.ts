import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WRANGLER_OFFLINE_ENV } from '../../control-plane/scripts/local.js';
import { Session } from '../../core/session.js';
import type { Tensor } from '../../core/tensor.js';
import { batchReluModel, hugeActivationModel, reshapeModel, unsupportedModel, wakeInput, wakeWordHead, wakeWordHeadBundles, wakeWordHeadInt8, WAKE_INPUT } from './fixtures.js';

/**
 * The worker in workerd (`wrangler dev`, local R2), answering with the same model and input as the
 * CPU backend in this Node process. Also measures cold start, the first request a freshly started
 * isolate sees (R2 read, parse, plan, wasm instance, run, and any start-up still under way), and
 * warm requests.
 */

const HERE = dirname(fileURLToPath(import.meta.url));
const CONFIG = join(HERE, '..', 'wrangler.toml');
// wrangler's bin refuses Node < 22 by a version check alone; its CLI bundle runs on Node 20.
const WRANGLER_CLI = join(dirname(createRequire(import.meta.url).resolve('wrangler/package.json')), 'wrangler-dist', 'cli.js');
/** Small enough that the oversize path is cheap to reach, big enough for the wake-word head. */
const MAX_MODEL_BYTES = 1_000_000;

type JsonTensor = { dims: number[]; type: string; data: number[] };

describe('edge worker in workerd', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-edge-'));
  const port = 20_000 + Math.floor(Math.random() * 2000);
  const base = `http://127.0.0.1:${port}`;
  let server: ChildProcess | undefined;
  let startupMs = 0;

  beforeAll(async () => {
    const state = join(dir, 'state');
    // Seeding through wrangler's platform proxy writes where `wrangler dev --persist-to` reads (its v3/ folder).
    Object.assign(process.env, WRANGLER_OFFLINE_ENV);
    const { getPlatformProxy } = await import('wrangler');
    const proxy = await getPlatformProxy<{ MODELS: { put(key: string, value: Uint8Array): Promise<unknown> } }>({
      configPath: CONFIG,
      persist: { path: join(state, 'v3') },
    });
    try {
      await proxy.env.MODELS.put('wake', wakeWordHead());
      await proxy.env.MODELS.put('wake-int8', await wakeWordHeadInt8());
      const bundles = await wakeWordHeadBundles();
      await proxy.env.MODELS.put('wake-bundle', bundles.intact);
      await proxy.env.MODELS.put('wake-bundle-corrupt', bundles.corrupt);
      await proxy.env.MODELS.put('reshape', reshapeModel());
      await proxy.env.MODELS.put('relu', batchReluModel());
      await proxy.env.MODELS.put('frobnicate', unsupportedModel());
      await proxy.env.MODELS.put('garbage', new Uint8Array(1000).fill(7));
      await proxy.env.MODELS.put('huge', new Uint8Array(MAX_MODEL_BYTES + 1));
      await proxy.env.MODELS.put('expand', hugeActivationModel());
    } finally {
      await proxy.dispose();
    }
    const t0 = performance.now();
    server = spawn(
      process.execPath,
      ['--no-warnings', WRANGLER_CLI, 'dev', '--config', CONFIG, '--local', '--ip', '127.0.0.1', '--port', String(port), '--persist-to', state,
        '--show-interactive-dev-session=false', '--var', `MAX_MODEL_BYTES:${MAX_MODEL_BYTES}`],
      { stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, CI: '1', ...WRANGLER_OFFLINE_ENV } },
    );
    // Ready when wrangler says so, not when a probe request succeeds: the first request the isolate
    // sees is then the test's cold predict, which so measures a fresh isolate's first answer.
    const dev = server;
    await new Promise<void>((resolve, reject) => {
      let seen = '';
      const timer = setTimeout(() => reject(new Error(`wrangler dev did not report ready on ${base} in 90 s:\n${seen}`)), 90_000);
      dev.stdout!.on('data', (chunk: Buffer) => {
        seen += chunk.toString();
        if (/Ready on http/.test(seen)) {
          clearTimeout(timer);
          dev.stdout!.resume();
          resolve();
        }
      });
      dev.once('exit', (code) => reject(new Error(`wrangler dev exited (${code}) before it was ready:\n${seen}`)));
    });
    startupMs = performance.now() - t0;
  });

  afterAll(() => {
    server?.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  const predict = (name: string, body: unknown) =>
    fetch(`${base}/v1/models/${name}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });

  async function expectError(res: Response, status: number, code: string): Promise<string> {
    const body = (await res.json()) as { error?: { code: string; message: string } };
    expect({ status: res.status, code: body.error?.code }).toEqual({ status, code });
    return body.error!.message;
  }

  it('bundles well under the free plan\'s 3 MB compressed', () => {
    const out = spawnSync(process.execPath, ['--no-warnings', WRANGLER_CLI, 'deploy', '--dry-run', '--config', CONFIG, '--outdir', join(dir, 'bundle')], {
      encoding: 'utf8',
      env: { ...process.env, CI: '1', ...WRANGLER_OFFLINE_ENV },
    });
    const m = /Total Upload: ([\d.]+) KiB \/ gzip: ([\d.]+) KiB/.exec(out.stdout);
    expect(m, out.stdout + out.stderr).not.toBeNull();
    const gzipKiB = Number(m![2]);
    console.log(`edge worker bundle (wrangler deploy --dry-run): ${m![1]} KiB, ${gzipKiB} KiB gzipped; models live in R2, outside it`);
    expect(gzipKiB).toBeLessThan(1024);
  });

  it('answers a wake-word head as the CPU backend in Node does, and times cold and warm requests', async () => {
    const input = wakeInput();
    const body = { [WAKE_INPUT]: { dims: input.dims, type: 'float32', data: Array.from(input.data) } };

    const t0 = performance.now();
    const first = await predict('wake', body);
    const coldMs = performance.now() - t0;
    expect(first.status, await first.clone().text()).toBe(200);
    const { backend, outputs: answer } = (await first.json()) as { backend: string; outputs: Record<string, JsonTensor> };
    // Chosen by 'auto': a Worker has no navigator.gpu.
    expect(backend).toBe('cpu');

    const warm: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t = performance.now();
      const res = await predict('wake', body);
      warm.push(performance.now() - t);
      expect(((await res.json()) as { outputs: Record<string, JsonTensor> }).outputs).toEqual(answer);
    }
    warm.sort((a, b) => a - b);
    // The HTTP floor: the same round trip through wrangler's proxy with no model work behind it.
    const floor: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t = performance.now();
      await (await fetch(`${base}/healthz`)).json();
      floor.push(performance.now() - t);
    }
    floor.sort((a, b) => a - b);

    const feeds = { [WAKE_INPUT]: { dtype: 'float32', dims: input.dims, data: input.data } as Tensor };
    const inNode = async (backend: 'cpu' | 'reference') => {
      const session = await Session.load(wakeWordHead(), { backend });
      try {
        return (await session.run(feeds)).score!;
      } finally {
        session.dispose();
      }
    };
    const [cpu, reference] = await Promise.all([inNode('cpu'), inNode('reference')]);
    expect(answer.score!.dims).toEqual([1, 1]);
    // The same wasm on the same plan: the same bits (float32 survives the JSON round trip exactly).
    expect(Float32Array.from(answer.score!.data)).toEqual(cpu.data);
    expect(Math.abs(answer.score!.data[0]! - reference.data[0]!)).toBeLessThan(1e-5);

    console.log(
      `edge worker (wrangler dev, workerd): ready after ${startupMs.toFixed(0)} ms; ` +
        `cold start: the first request to the fresh isolate (whatever start-up workerd still had to do, R2 read, parse, plan, wasm instance, run) ${coldMs.toFixed(1)} ms; ` +
        `warm median ${warm[5]!.toFixed(1)} ms, min ${warm[0]!.toFixed(1)} ms; GET /healthz median ${floor[5]!.toFixed(1)} ms (the HTTP round trip through wrangler's proxy in all of them)`,
    );
  });

  it('serves an int8 bundle from R2 on the int8 kernels, with the bits of the CPU backend in Node', async () => {
    const input = wakeInput();
    const res = await predict('wake-int8', { [WAKE_INPUT]: { dims: input.dims, type: 'float32', data: Array.from(input.data) } });
    expect(res.status, await res.clone().text()).toBe(200);
    const score = ((await res.json()) as { outputs: Record<string, JsonTensor> }).outputs.score!;
    const feeds = { [WAKE_INPUT]: { dtype: 'float32', dims: input.dims, data: input.data } as Tensor };
    const run = async (bytes: Uint8Array) => {
      const session = await Session.load(bytes, { backend: 'cpu' });
      try {
        return (await session.run(feeds)).score!.data;
      } finally {
        session.dispose();
      }
    };
    expect(Float32Array.from(score.data)).toEqual(await run(await wakeWordHeadInt8()));
    expect(Math.abs(score.data[0]! - (await run(wakeWordHead()))[0]!)).toBeLessThan(0.02);
  });

  it('checks a float bundle\'s digests in workerd: the intact one answers as the ONNX file does, a flipped byte is refused', async () => {
    const input = wakeInput();
    const body = { [WAKE_INPUT]: { dims: input.dims, type: 'float32', data: Array.from(input.data) } };
    const score = async (name: string) => ((await (await predict(name, body)).json()) as { outputs: Record<string, JsonTensor> }).outputs.score!.data;
    expect(await score('wake-bundle')).toEqual(await score('wake'));
    const res = await predict('wake-bundle-corrupt', body);
    expect(res.status).toBe(500);
    expect(await res.json()).toMatchObject({ error: { code: 'model_bundle', detail: { reason: 'TENSOR_DIGEST_MISMATCH' } } });
  });

  it('runs a views-only model and describes a model', async () => {
    const res = await predict('reshape', { x: { dims: [2, 3], data: [[1, 2, 3], [4, 5, 6]] } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { outputs: unknown }).outputs).toEqual({ y: { dims: [3, 2], type: 'float32', data: [1, 2, 3, 4, 5, 6] } });
    const info = await (await fetch(`${base}/v1/models/reshape`)).json();
    expect(info).toMatchObject({ name: 'reshape', inputs: [{ name: 'x', dtype: 'float32', dims: [2, 3] }], nodes: 1 });
  });

  it('plans a symbolic batch for each size a request brings', async () => {
    for (const rows of [[[-1, 2, -3]], [[1, -2, 3], [4, 5, -6]], [[-7, 8, 9]]]) {
      const res = await predict('relu', { x: { dims: [rows.length, 3], data: rows } });
      expect(((await res.json()) as { outputs: unknown }).outputs).toEqual({ y: { dims: [rows.length, 3], type: 'float32', data: rows.flat().map((v) => Math.max(v, 0)) } });
    }
    await expectError(await predict('relu', { x: { dims: [2, 4], data: new Array(8).fill(0) } }), 422, 'invalid_input');
  });

  it('lets pages call it (CORS preflight)', async () => {
    const res = await fetch(`${base}/v1/models/reshape/predict`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-allow-methods')).toContain('POST');
  });

  it('answers bad requests with typed 4xx errors', async () => {
    const ok = { dims: [2, 3], data: [1, 2, 3, 4, 5, 6] };
    await expectError(await predict('reshape', '{"x": '), 400, 'invalid_json');
    await expectError(await predict('reshape', [1, 2]), 400, 'invalid_json');
    await expectError(await predict('reshape', {}), 422, 'invalid_input');
    await expectError(await predict('reshape', { x: ok, z: ok }), 422, 'invalid_input');
    await expectError(await predict('reshape', { x: { dims: [3, 2], data: ok.data } }), 422, 'invalid_input');
    await expectError(await predict('reshape', { x: { dims: [2, 3], data: [1, 2, 3] } }), 422, 'invalid_input');
    await expectError(await predict('reshape', { x: { dims: [2, 3], data: [1, 2, 3, 4, 5, 'six'] } }), 422, 'invalid_input');
    await expectError(await predict('reshape', { x: { ...ok, type: 'float64' } }), 422, 'invalid_input');
    await expectError(await predict('reshape', { x: { ...ok, type: 'int32' } }), 422, 'invalid_input');
    await expectError(await predict('nothing-here', { x: ok }), 404, 'model_not_found');
    await expectError(await predict('.hidden', { x: ok }), 400, 'invalid_name');
    await expectError(await fetch(`${base}/v1/nowhere`), 404, 'not_found');
  });

  it('refuses models it cannot serve, saying why', async () => {
    const x = { x: { dims: [4], data: [1, 2, 3, 4] } };
    // Over MAX_MODEL_BYTES: refused before the bytes are read.
    expect(await expectError(await predict('huge', x), 507, 'model_too_large')).toMatch(/128 MB/);
    // A small file whose plan needs more than the isolate has: refused at load, before memory grows.
    expect(await expectError(await predict('expand', { x: { dims: [1], data: [1] } }), 507, 'model_too_large')).toMatch(/needs 18\d\.\d MiB of CPU kernel memory/);
    await expectError(await predict('garbage', x), 500, 'model_format');
    const unsupported = await expectError(await predict('frobnicate', x), 501, 'unsupported_op');
    expect(unsupported).toMatch(/Frobnicate/);
  });
});
