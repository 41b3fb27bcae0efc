/**
 * The browser side of the bench and of the browser tests: bundles `page.ts` with esbuild, serves it
 * with onnxruntime-web's dist folder, Tessera's CPU kernels, TensorFlow.js (bundled on first request)
 * and the registered model/input files from 127.0.0.1, and runs each measurement in a fresh page of
 * one headless Chromium. COOP/COEP headers make the page cross-origin isolated, so onnxruntime-web
 * may use wasm threads.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Browser } from 'playwright-core';
import { WASM_OUT } from '../../scripts/build-wasm.mjs';
import { launchBrowser, requireWebGpuAdapter } from './launch.js';
import { PAGE_ENTRY, TFJS_BUNDLE, TFJS_WASM_DIR, type MeasureResult, type MeasureSpec } from './protocol.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const requireHere = createRequire(import.meta.url);
const ORT_DIST = dirname(requireHere.resolve('onnxruntime-web'));
const TFJS_WASM_DIST = dirname(requireHere.resolve('@tensorflow/tfjs-backend-wasm'));

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
};

const INDEX_HTML = '<!doctype html><meta charset="utf-8"><title>tessera bench</title><script type="module" src="/page.js"></script>';

export interface Harness {
  /** The WebGPU adapter every page of this browser gets. */
  readonly adapter: string;
  readonly browserVersion: string;
  /** Serves `body` (bytes, or the path of a file) at the returned URL path. */
  serve(name: string, body: Uint8Array | { readonly path: string }): string;
  /**
   * Runs one measurement of `spec.engines` in a fresh page, one result per engine; engine failures,
   * page crashes and timeouts come back as `ok: false`.
   */
  measure(spec: MeasureSpec, timeoutMs: number): Promise<MeasureResult[]>;
  close(): Promise<void>;
}

/** One ES module for a page, from a TypeScript entry (a path, or a file name beside this one). */
export async function bundleForPage(entry: string): Promise<string> {
  const out = await build({
    entryPoints: [resolve(HERE, entry)],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    loader: { '.wgsl': 'text' },
    // core/gpu/device.ts imports these only on its Node path; in the page navigator.gpu answers first.
    external: ['webgpu', 'node:*'],
    logLevel: 'error',
  });
  return out.outputFiles[0]!.text;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export async function openHarness(): Promise<Harness> {
  const pageJs = await bundleForPage('page.ts');
  let tfjsJs: Promise<string> | undefined;
  const files = new Map<string, Uint8Array | { readonly path: string }>();

  async function body(url: string): Promise<Uint8Array | string | undefined> {
    if (url === '/') return INDEX_HTML;
    if (url === '/page.js') return pageJs;
    // Tessera's CPU engine fetches its kernels from beside page.js, as from beside dist/tessera.mjs
    // (built by scripts/build-wasm.mjs; the bench builds it before it opens the harness).
    if (url === '/tessera-cpu.wasm') return readFile(WASM_OUT).catch(() => undefined);
    if (url === TFJS_BUNDLE) return (tfjsJs ??= bundleForPage('tfjs-entry.ts'));
    const ort = /^\/ort\/([\w.-]+)$/.exec(url);
    if (ort) return readFile(join(ORT_DIST, ort[1]!)).catch(() => undefined);
    const tfjsWasm = url.startsWith(TFJS_WASM_DIR) ? /^[\w.-]+\.wasm$/.exec(url.slice(TFJS_WASM_DIR.length)) : null;
    if (tfjsWasm) return readFile(join(TFJS_WASM_DIST, tfjsWasm[0])).catch(() => undefined);
    const f = files.get(url);
    if (!f) return undefined;
    return f instanceof Uint8Array ? f : readFile(f.path);
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    body(url).then(
      (b) => {
        res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
        res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
        res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
        res.setHeader('Cache-Control', 'no-store');
        if (b === undefined) {
          res.writeHead(404).end(`not served: ${url}`);
          return;
        }
        res.setHeader('Content-Type', CONTENT_TYPES[extname(url) || '.html'] ?? 'application/octet-stream');
        res.end(b);
      },
      (e: unknown) => res.writeHead(500).end(message(e)),
    );
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  let browser: Browser | undefined;
  try {
    browser = await launchBrowser();
    const probe = await browser.newPage();
    await probe.goto(`${base}/`);
    const adapter = await requireWebGpuAdapter(probe);
    await probe.close();
    const b = browser;
    return {
      adapter,
      browserVersion: b.version(),
      serve(name, content) {
        const path = `/files/${encodeURIComponent(name)}`;
        files.set(path, content);
        return path;
      },
      async measure(spec, timeoutMs) {
        const all = (r: MeasureResult): MeasureResult[] => spec.engines.map(() => r);
        const page = await b.newPage();
        const consoleErrors: string[] = [];
        page.on('console', (m) => {
          if (m.type() === 'error') consoleErrors.push(m.text());
        });
        page.on('pageerror', (e) => consoleErrors.push(e.message));
        // Nothing an engine does may leave loopback (ORT must not reach for a CDN): such requests fail, and say so.
        const offLoopback: string[] = [];
        await page.route(
          (u) => u.protocol.startsWith('http') && u.origin !== base,
          (route) => {
            offLoopback.push(route.request().url());
            return route.abort('blockedbyclient');
          },
        );
        let timer: NodeJS.Timeout | undefined;
        try {
          await page.goto(`${base}/`);
          await page.waitForFunction((entry) => entry in globalThis, PAGE_ENTRY);
          // Caught here, not below: after a timeout the page is closed under a still-pending evaluate.
          const run = page
            .evaluate(([entry, s]) => (globalThis as unknown as Record<string, (x: MeasureSpec) => Promise<MeasureResult[]>>)[entry]!(s), [PAGE_ENTRY, spec] as const)
            .catch((e: unknown): MeasureResult[] => all({ ok: false, stage: 'harness', error: `page failed: ${message(e)}` }));
          const timeout = new Promise<MeasureResult[]>((resolve) => {
            timer = setTimeout(() => resolve(all({ ok: false, stage: 'harness', error: `timed out after ${timeoutMs} ms` })), timeoutMs);
          });
          const results = await Promise.race([run, timeout]);
          if (offLoopback.length) return all({ ok: false, stage: 'harness', error: `requests off loopback were blocked: ${offLoopback.join(', ')}` });
          // ORT logs the real cause of many failures to the console and throws a bare code. The page
          // is shared, so the console goes with every failure, not with an engine found n/a.
          const consoleNote = consoleErrors.length ? ` (console: ${consoleErrors.slice(-3).join(' | ')})` : '';
          return results.map((r) => (r.ok || r.stage === 'n/a' || !consoleNote ? r : { ...r, error: `${r.error}${consoleNote}` }));
        } catch (e) {
          return all({ ok: false, stage: 'harness', error: `page failed: ${message(e)}` });
        } finally {
          clearTimeout(timer);
          await page.close().catch(() => undefined);
        }
      },
      async close() {
        await b.close();
        server.close();
      },
    };
  } catch (e) {
    await browser?.close();
    server.close();
    throw e;
  }
}
