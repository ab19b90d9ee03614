import { defineConfig } from 'vitest/config';

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
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    // Multi-process tests spawn their own children; two test files at a time suit 2 cores.
    maxWorkers: 2,
    minWorkers: 1,
    testTimeout: 60_000,
    hookTimeout: 30_000,
  },
});
