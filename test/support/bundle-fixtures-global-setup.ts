// Vitest global setup: bundles every test fixture (the programs the tests start as processes and
// worker threads) with the workspace sources it imports, before any test file runs (and again
// before each rerun in watch mode: the sources may have changed), into a temp folder removed at
// the end of the run. ../../packages/lock/test/support/fixture-bundles.ts says why and how, and
// how the tests find the bundles.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { TestProject } from 'vitest/node';
import { bundleFixtures, findFixtures, FIXTURE_BUNDLES_VARIABLE } from '../../packages/lock/test/support/fixture-bundles.js';

/** Set once the bundles are made: each test project runs this setup, in the same process. */
const BUNDLED = Symbol.for('memhub.test-fixtures-bundled');

async function bundleInto(folder: string): Promise<void> {
  const failed = await bundleFixtures(findFixtures(), folder);
  if (failed.length > 0) {
    // Their tests will say what is wrong, through tsx; one line here says why they run slower.
    const names = failed.map(({ fixture }) => relative(process.cwd(), fixture)).join(', ');
    const { error } = failed[0]!;
    const reason = error instanceof Error ? error.message.split('\n').slice(0, 2).join(' ') : String(error);
    console.warn(`Fixtures not bundled, run through tsx instead: ${names} (${reason})`);
  }
}

export default async function setup(project: TestProject): Promise<(() => void) | undefined> {
  const shared = globalThis as { [BUNDLED]?: boolean };
  if (shared[BUNDLED] === true) return undefined;
  shared[BUNDLED] = true;
  const folder = mkdtempSync(join(tmpdir(), 'memhub-test-fixtures-'));
  const removeFolder = () => rmSync(folder, { recursive: true, force: true });
  try {
    await bundleInto(folder);
  } catch (error) {
    removeFolder();
    throw error;
  }
  // Read by the test workers, which this process starts after its global setups.
  process.env[FIXTURE_BUNDLES_VARIABLE] = folder;
  project.onTestsRerun(() => bundleInto(folder));
  return removeFolder;
}
