import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { wgslText } from '../scripts/wgsl-plugin.js';

/** The edge worker's tests: Node drives `wrangler dev` (workerd, local R2) and checks its answers. */
export default defineConfig({
  plugins: [wgslText()],
  root: fileURLToPath(new URL('..', import.meta.url)),
  test: {
    name: 'edge-worker',
    include: ['edge-worker/test/**/*.test.ts'],
    // The worker imports dist/tessera-cpu.wasm, and the Node side runs the same kernels.
    globalSetup: ['scripts/vitest-global-setup.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
