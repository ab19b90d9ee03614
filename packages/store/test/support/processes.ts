import { fileURLToPath } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { startFixtureWorkerThread } from '../../../lock/test/support/fixture-bundles.js';
import { FixtureProcess } from '../../../lock/test/support/processes.js';

export { FixtureProcess };

/** A lock fixture (packages/lock/test/fixtures), such as hold-until-told.ts. */
export function startLockFixture(name: string, args: readonly string[] = []): FixtureProcess {
  return new FixtureProcess(fileURLToPath(new URL(`../../../lock/test/fixtures/${name}`, import.meta.url)), args);
}

/** A worker thread running one of the store's TypeScript fixtures; it reads `workerData.data`. */
export function startStoreWorker(name: string, data: unknown): Worker {
  return startFixtureWorkerThread(fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url)), data);
}

/** A child process running one of the store's fixtures; `env` is added to this process's environment. */
export function startStoreFixture(name: string, args: readonly string[] = [], env: NodeJS.ProcessEnv = {}): FixtureProcess {
  return new FixtureProcess(fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url)), args, env);
}
