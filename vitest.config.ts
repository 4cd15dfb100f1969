import { defineConfig } from 'vitest/config';
import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { TEST_BINDINGS } from './test/worker/helpers/bindings.ts';

// Unit and integration tests run inside workerd with the R2 simulator.
export default defineConfig({
  plugins: [cloudflareTest({ wrangler: { configPath: './wrangler.toml' }, miniflare: { bindings: TEST_BINDINGS } })],
  test: { include: ['test/worker/**/*.test.ts'] },
});
