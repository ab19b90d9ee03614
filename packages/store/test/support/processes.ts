import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { FixtureProcess } from '../../../lock/test/support/processes.js';

export { FixtureProcess };

/** A lock fixture (packages/lock/test/fixtures), such as hold-until-told.ts. */
export function startLockFixture(name: string, args: readonly string[] = []): FixtureProcess {
  return new FixtureProcess(fileURLToPath(new URL(`../../../lock/test/fixtures/${name}`, import.meta.url)), args);
}

/** A worker thread running one of the store's TypeScript fixtures; it reads `workerData.data`. */
export function startStoreWorker(name: string, data: unknown): Worker {
  const fixtureUrl = new URL(`../fixtures/${name}`, import.meta.url).href;
  return new Worker(new URL('../../../lock/test/fixtures/ts-worker-entry.mjs', import.meta.url), {
    workerData: { fixtureUrl, data },
  });
}

/** A child process running one of the store's fixtures, with `env` added to this process's environment. */
export function startStoreFixture(name: string, args: readonly string[] = [], env: NodeJS.ProcessEnv = {}): FixtureProcess {
  return new FixtureProcess(fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url)), args, env);
}
