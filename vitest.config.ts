import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Tests that keep many processes busy at once: the PostgreSQL ones (writers and server backends)
 * and the torture suite (chaos, fault points, fuzzing).
 */
const HEAVY_TESTS = ['packages/store/test/postgres/**/*.test.ts', 'test/torture/**/*.test.ts'];
/**
 * Tests of the built packages: the CLI's start the built `memhub` bin with plain node, as a user's
 * shell does (in half the start-up time of the sources through tsx; they start over a hundred
 * commands, several at a time); package-exports checks what the packages' exports maps give a
 * user; platform-refusal runs the built packages as if on Windows; packed-install packs them and
 * installs the tarballs with npm in a project of its own (an install and a dozen writers: it runs
 * here, after the timing tests, not beside them).
 */
const BUILT_TESTS = ['packages/cli/test/**/*.test.ts', 'test/package-exports.test.ts', 'test/platform-refusal.test.ts', 'test/packed-install.test.ts'];
/**
 * The examples, run as their scripts run them, all at once: a dozen processes; `pnpm -s memhub`;
 * and every README block (about fifty processes, three blocks at a time, on the built bin).
 */
const EXAMPLE_TESTS = ['test/examples.test.ts', 'test/workspace-memhub.test.ts', 'test/readme-blocks.test.ts'];

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
    globalSetup: [
      // Checks whether the PostgreSQL server answers, and says so once when its tests are skipped.
      'packages/store/test/support/postgres-global-setup.ts',
      // Bundles the test fixtures with the sources, once a run: the processes the tests start run
      // them with plain node, three times faster than through tsx (fixture-bundles.ts).
      'test/support/bundle-fixtures-global-setup.ts',
    ],
    projects: [
      {
        extends: true,
        test: {
          name: 'memhub',
          include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...HEAVY_TESTS, ...BUILT_TESTS, ...EXAMPLE_TESTS],
        },
      },
      // The tests below keep many processes busy at once, and run after the ones above, never
      // beside them: on 2 cores they would starve the timing tests (event-loop gaps, fairness,
      // hand-offs between processes) of CPU. Those compare what they measure with controls taken
      // in the same window, but a test that counts on thousands of hand-offs in a time budget
      // (lost-update-race's) still cannot pass beside a dozen busy processes.
      { extends: true, test: { name: 'heavy', include: HEAVY_TESTS, sequence: { groupOrder: 1 } } },
      // Its own setup builds the packages first (tsc -b, as `pnpm build`), so that it never tests a
      // build older than the sources; a run without these tests skips that.
      { extends: true, test: { name: 'built', include: BUILT_TESTS, globalSetup: ['test/support/build-packages-global-setup.ts'], sequence: { groupOrder: 2 } } },
      { extends: true, test: { name: 'examples', include: EXAMPLE_TESTS, sequence: { groupOrder: 2 } } },
    ],
  },
});
