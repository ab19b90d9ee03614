import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // Tests run the TypeScript sources of the workspace packages, not their build output.
    conditions: ['@memhub/source'],
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    // Multi-process tests spawn their own children; two test files at a time suit 2 cores.
    maxWorkers: 2,
    minWorkers: 1,
    testTimeout: 60_000,
    // Checks once whether the PostgreSQL server answers, and says so when its tests are skipped.
    globalSetup: ['packages/store/test/support/postgres-global-setup.ts'],
    hookTimeout: 30_000,
  },
});
