/**
 * Builds the two shipped bundles with esbuild:
 *   dist/cli.mjs      the `tessera` command (Node ESM); bin/tessera.mjs imports it
 *   dist/tessera.mjs  the library entry (browser/neutral ESM) for apps and workers
 * Runs from `npm run build` and from `prepare`, so a fresh `npm ci` leaves a working bin.
 * WGSL kernels are inlined as text. `webgpu` (a native addon) stays external everywhere; the
 * protobuf packages stay external in the Node bundle, where node_modules has them, and are
 * bundled into the library so a browser needs nothing else.
 */
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const common = {
  bundle: true,
  format: 'esm',
  loader: { '.wgsl': 'text' },
  sourcemap: true,
  logLevel: 'warning',
  absWorkingDir: root,
};

await Promise.all([
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
    // core/gpu/device.ts reaches for `webgpu` and node:* only when it finds itself in Node.
    external: ['webgpu', 'node:*'],
  }),
]);
