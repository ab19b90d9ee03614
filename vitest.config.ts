import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Tests that keep many processes busy at once: the PostgreSQL ones (writers and server backends)
 * and the torture suite (chaos, fault points, fuzzing).
 */
const HEAVY_TESTS = ['packages/store/test/postgres/**/*.test.ts', 'test/torture/**/*.test.ts'];

export default defineConfig({
  resolve: {
    // Tests run the TypeScript sources of the workspace packages, not their build output.
    conditions: ['@memhub/source'],
  },
  // The tests run in Node (Vite's server-side environment), which resolves with its own conditions:
  // without these, a workspace package imported by name (from test/, or one package from another)
  // would load its build output, stale or missing, instead of its sources.
  ssr: {
    resolve: {
      conditions: ['@memhub/source'],
      externalConditions: ['@memhub/source'],
    },
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
      { extends: true, test: { name: 'memhub', include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'], exclude: [...configDefaults.exclude, ...HEAVY_TESTS] } },
      // After the others, never beside them: their busy processes on 2 cores would starve the
      // timing tests (event-loop gaps, fairness) of CPU.
      { extends: true, test: { name: 'heavy', include: HEAVY_TESTS, sequence: { groupOrder: 1 } } },
    ],
  },
});
