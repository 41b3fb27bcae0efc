/**
 * Serves the CPU test page to headless Chromium (the bench's browser and flags), laid out as an
 * application would ship Tessera: the bundle at /app/page.js with tessera-cpu.wasm beside it, where
 * the default loader looks (`new URL('./tessera-cpu.wasm', import.meta.url)`); the same bundle at
 * /bare/ with no wasm beside it; the wasm under another name at /kernels/, for `cpuKernels`.
 */
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleForPage } from '../../bench/browser/harness.js';
import { launchBrowser } from '../../bench/browser/launch.js';
import { WASM_OUT } from '../../scripts/build-wasm.mjs';
import { CPU_PAGE_ENTRY, type CpuPageResult, type CpuPageSpec } from './cpu-protocol.js';

const HERE = dirname(fileURLToPath(import.meta.url));
export const RENAMED_KERNELS = '/kernels/kernels-renamed.wasm';

export interface CpuApp {
  readonly browserVersion: string;
  /** Serves `bytes` at the returned URL path. */
  serve(name: string, bytes: Uint8Array): string;
  /** Runs the spec in a fresh page of the app at `/app/` or `/bare/`. */
  run(app: 'app' | 'bare', spec: CpuPageSpec, timeoutMs: number): Promise<CpuPageResult>;
  close(): Promise<void>;
}

const INDEX_HTML = '<!doctype html><meta charset="utf-8"><title>tessera cpu</title><script type="module" src="./page.js"></script>';

export async function openCpuApp(): Promise<CpuApp> {
  const pageJs = await bundleForPage(join(HERE, 'cpu-page.ts'));
  const files = new Map<string, Uint8Array>();
  const body = async (path: string): Promise<{ type: string; bytes: Uint8Array | string } | undefined> => {
    if (path === '/app/' || path === '/bare/') return { type: 'text/html; charset=utf-8', bytes: INDEX_HTML };
    if (path === '/app/page.js' || path === '/bare/page.js') return { type: 'text/javascript; charset=utf-8', bytes: pageJs };
    if (path === '/app/tessera-cpu.wasm' || path === RENAMED_KERNELS) return { type: 'application/wasm', bytes: await readFile(WASM_OUT) };
    const f = files.get(path);
    return f && { type: 'application/octet-stream', bytes: f };
  };
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    body(path).then(
      (b) => (b ? res.writeHead(200, { 'Content-Type': b.type, 'Cache-Control': 'no-store' }).end(b.bytes) : res.writeHead(404).end(`not served: ${path}`)),
      (e: unknown) => res.writeHead(500).end(String(e)),
    );
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const browser = await launchBrowser().catch((e: unknown) => {
    server.close();
    throw e;
  });
  return {
    browserVersion: browser.version(),
    serve(name, bytes) {
      const path = `/files/${encodeURIComponent(name)}`;
      files.set(path, bytes);
      return path;
    },
    async run(app, spec, timeoutMs) {
      const page = await browser.newPage();
      const pageErrors: string[] = [];
      page.on('pageerror', (e) => pageErrors.push(e.message));
      try {
        await page.goto(`${base}/${app}/`);
        await page.waitForFunction((entry) => entry in globalThis, CPU_PAGE_ENTRY, { timeout: timeoutMs });
        return await page.evaluate(
          ([entry, s]) => (globalThis as unknown as Record<string, (x: CpuPageSpec) => Promise<CpuPageResult>>)[entry]!(s),
          [CPU_PAGE_ENTRY, spec] as const,
        );
      } catch (e) {
        throw new Error(`the CPU page failed: ${(e as Error).message}${pageErrors.length ? ` (page errors: ${pageErrors.join(' | ')})` : ''}`);
      } finally {
        await page.close().catch(() => undefined);
      }
    },
    async close() {
      await browser.close();
      server.close();
    },
  };
}
