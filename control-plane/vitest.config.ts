import { generateKeyPairSync } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const repo = here('..');

// A throwaway signing key per run: tests read the public key back through /v1/signing-key.
const signingKey = JSON.stringify(generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' }));

export default defineConfig({
  test: {
    projects: [
      {
        // Worker tests: the app runs inside workerd with real (local) D1, R2 and Durable Objects.
        root: here('.'),
        plugins: [
          cloudflareTest(async () => ({
            wrangler: { configPath: here('./wrangler.toml') },
            miniflare: {
              bindings: {
                SIGNING_KEY: signingKey,
                TEST_MIGRATIONS: await readD1Migrations(here('./migrations')),
                // A small upload limit so the oversize path is cheap to reach; roomy default rate limits
                // (the rate-limit test gives its key a bucket of its own).
                MAX_ARTIFACT_BYTES: String(1024 * 1024),
                RATE_LIMIT_PER_SEC: '200',
                RATE_LIMIT_BURST: '1000',
              },
            },
          })),
        ],
        test: {
          name: 'control-plane',
          include: ['test/**/*.test.ts'],
          setupFiles: ['./test/setup.ts'],
          testTimeout: 30_000,
        },
      },
      {
        // Node-side pieces: client signature verification and the CLI (which drives `wrangler dev`).
        root: repo,
        test: {
          name: 'control-plane-node',
          include: ['core/sign/**/*.test.ts', 'cli/registry.test.ts'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 90_000,
        },
      },
    ],
  },
});
