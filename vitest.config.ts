import { cloudflareTest } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';
import { TEST_BINDINGS } from './test/worker/helpers/bindings.ts';

const E2E = {
  environment: 'node',
  globalSetup: ['test/e2e/setup.ts'],
  setupFiles: ['test/e2e/log-check.ts'],
  testTimeout: 120_000,
  hookTimeout: 120_000,
  fileParallelism: false,
} as const;

/** Tests of the proxy layout itself. */
const PROXY_ONLY = ['test/e2e/proxy.test.ts'];

export default defineConfig({
  test: {
    projects: [
      {
        // Unit and integration tests inside workerd, with the R2 simulator.
        plugins: [cloudflareTest({ wrangler: { configPath: './wrangler.toml' }, miniflare: { bindings: TEST_BINDINGS } })],
        test: {
          name: 'worker',
          include: ['test/worker/**/*.test.ts'],
          setupFiles: ['test/worker/helpers/no-orphans.ts'],
          testTimeout: 30_000,
        },
      },
      {
        // End-to-end: real clients in Node against `wrangler dev` started by the global setup.
        test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], exclude: PROXY_ONLY, ...E2E },
      },
      {
        // The same end-to-end tests with every bucket fronting an upstream bucket on a real
        // S3-compatible server (s3rver): the proxy layout. Browser and client-only tests run once.
        test: {
          name: 'e2e-proxy',
          include: ['test/e2e/**/*.test.ts'],
          exclude: ['test/e2e/console.test.ts', 'test/e2e/upstream-client.test.ts'],
          ...E2E,
        },
      },
    ],
  },
});
