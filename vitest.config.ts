import { defineConfig } from 'vitest/config';
import { wgslText } from './scripts/wgsl-plugin.js';

export default defineConfig({
  plugins: [wgslText()],
  test: {
    include: ['core/**/*.test.ts', 'kernels/**/*.test.ts', 'cli/**/*.test.ts', 'tests/**/*.test.ts', 'bench/**/*.test.ts'],
    // One fork per file keeps each file's Dawn device to itself; two cores, so two at a time.
    globalSetup: ['scripts/vitest-global-setup.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
