import { fileURLToPath } from 'node:url';
import { FixtureProcess } from '../../../lock/test/support/processes.js';

export { FixtureProcess };

/** A child process running one of the store's fixtures. */
export function startStoreFixture(name: string, args: readonly string[] = []): FixtureProcess {
  return new FixtureProcess(fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url)), args);
}
