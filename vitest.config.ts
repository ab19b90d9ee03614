import { configDefaults, defineConfig } from 'vitest/config';

/** The PostgreSQL tests that run many processes against the server at once. */
const POSTGRES_PROCESS_TESTS = 'packages/store/test/postgres/**/*.test.ts';

export default defineConfig({
  resolve: {
    // Tests run the TypeScript sources of the workspace packages, not their build output.
    conditions: ['@memhub/source'],
  },
  test: {
    // Multi-process tests spawn their own children; two test files at a time suit 2 cores.
    maxWorkers: 2,
    minWorkers: 1,
    testTimeout: 60_000,
    hookTimeout: 30_000,
    // Checks whether the PostgreSQL server answers, and says so once when its tests are skipped.
    globalSetup: ['packages/store/test/support/postgres-global-setup.ts'],
    projects: [
      { extends: true, test: { name: 'memhub', include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'], exclude: [...configDefaults.exclude, POSTGRES_PROCESS_TESTS] } },
      // After the others, never beside them: their dozen busy processes (writers and server
      // backends) on 2 cores would starve the timing tests (event-loop gaps, fairness) of CPU.
      { extends: true, test: { name: 'postgres-processes', include: [POSTGRES_PROCESS_TESTS], sequence: { groupOrder: 1 } } },
    ],
  },
});
