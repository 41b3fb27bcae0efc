/**
 * Builds the shipped bundles with esbuild:
 *   dist/cli.mjs      the `tessera` command (Node ESM); bin/tessera.mjs imports it
 *   dist/tessera.mjs  the library entry (browser/neutral ESM, minified) for apps and workers; with
 *                     dist/tessera-cpu.wasm beside it (scripts/build-wasm.mjs) it is the whole CPU
 *                     runtime a Worker or a browser without WebGPU loads
 *   dist/types/       declarations for the library entry
 * Runs from `npm run build` and from `prepare`, so a fresh `npm ci` leaves a working bin. Then
 * prints the CPU runtime's size against its budget and fails the build when it is over.
 * WGSL kernels are inlined as text. `webgpu` (a native addon) stays external everywhere; the
 * protobuf packages stay external in the Node bundle, where node_modules has them, and are
 * bundled into the library so a browser needs nothing else.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const common = {
  bundle: true,
  format: 'esm',
  loader: { '.wgsl': 'text' },
  sourcemap: true,
  logLevel: 'warning',
  absWorkingDir: root,
};

/** Issue 3: JS + wasm a CPU-only client downloads, gzipped (a free Worker takes 3 MB compressed, model included). */
const CPU_RUNTIME_BUDGET = 400_000;

const [, library] = await Promise.all([
  build({
    ...common,
    entryPoints: ['cli/main.ts'],
    outfile: 'dist/cli.mjs',
    platform: 'node',
    target: 'node20',
    external: ['webgpu', 'onnx-proto', 'protobufjs'],
  }),
  build({
    ...common,
    entryPoints: ['core/index.ts'],
    outfile: 'dist/tessera.mjs',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    // Error classes name themselves from their constructor (`e.name === 'CpuKernelError'`).
    keepNames: true,
    metafile: true,
    // core/gpu/device.ts reaches for `webgpu` and node:* only when it finds itself in Node.
    external: ['webgpu', 'node:*'],
  }),
]);

// --noCheck: declarations only (`npm run typecheck` does the checking), in a few seconds.
rmSync(join(root, 'dist', 'types'), { recursive: true, force: true });
execFileSync(process.execPath, [
  createRequire(import.meta.url).resolve('typescript/bin/tsc'),
  '--noCheck', '--declaration', '--emitDeclarationOnly', '--outDir', 'dist/types',
  '--target', 'ES2022', '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--lib', 'ES2022,DOM,DOM.Iterable',
  '--types', 'node,@webgpu/types', '--skipLibCheck', '--strict', 'core/index.ts', 'types/wgsl.d.ts',
], { cwd: root, stdio: 'inherit' });

function sizes(bytes) {
  return { raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
}
const kb = (n) => `${(n / 1000).toFixed(1)} kB`;

const js = sizes(readFileSync(join(root, 'dist', 'tessera.mjs')));
const wasmPath = join(root, 'dist', 'tessera-cpu.wasm');
const wasm = existsSync(wasmPath) ? sizes(readFileSync(wasmPath)) : undefined;
// WGSL rides along because each op's definition holds both backends; a CPU client never runs it.
const wgsl = Object.entries(library.metafile.outputs['dist/tessera.mjs'].inputs)
  .filter(([path]) => path.endsWith('.wgsl'))
  .reduce((n, [, v]) => n + v.bytesInOutput, 0);
const total = js.gzip + (wasm?.gzip ?? 0);
const verdict = !wasm
  ? 'wasm missing: run scripts/build-wasm.mjs first (npm run build does)'
  : total <= CPU_RUNTIME_BUDGET
    ? `within the ${kb(CPU_RUNTIME_BUDGET)} budget`
    : `OVER the ${kb(CPU_RUNTIME_BUDGET)} budget`;
console.log(
  [
    'CPU runtime (what a Worker or a browser without WebGPU loads):',
    `  dist/tessera.mjs        ${kb(js.raw).padStart(9)} minified, ${kb(js.gzip).padStart(9)} gzipped (WGSL text in it, unused on the CPU: ${kb(wgsl)} raw)`,
    `  dist/tessera-cpu.wasm   ${wasm ? `${kb(wasm.raw).padStart(9)} raw,      ${kb(wasm.gzip).padStart(9)} gzipped` : 'missing'}`,
    `  total                   ${kb(total).padStart(30)} gzipped: ${verdict}`,
  ].join('\n'),
);
if (wasm && total > CPU_RUNTIME_BUDGET) process.exitCode = 1;
