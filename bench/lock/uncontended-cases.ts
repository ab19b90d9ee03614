import { closeSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openLock } from '@memhub/lock';
import properLockfile from 'proper-lockfile';
import { flockSync, LOCK_EX, LOCK_NB, LOCK_UN } from '../shared/bare-flock.js';
import type { ThroughputCase } from './measure-throughput.js';

export type UncontendedCaseId = 'a' | 'b' | 'c' | 'd' | 'e1' | 'e2';

export interface UncontendedCase extends ThroughputCase {
  readonly id: UncontendedCaseId;
  /** For a memhub row: the proper-lockfile row written in the same style (sync or async), to compare with. */
  readonly properLockfilePeer?: UncontendedCaseId;
}

export interface UncontendedCases {
  readonly cases: readonly UncontendedCase[];
  /** Closes the descriptors and locks that the cases keep open. */
  close(): void;
}

const noop = async (): Promise<void> => {};

/**
 * The single-process rows: acquire and release a lock that nobody else wants, over and over.
 * Each library gets a lock file of its own in `folder`, so that no row ever finds another's
 * leftovers (a held flock, a lock directory).
 *
 * proper-lockfile runs with its defaults, as most users run it: stale 10 000 ms, update 5 000 ms
 * (a timer per hold that would touch the lock directory's mtime), realpath on, no retries. Each
 * lock is mkdir + utimes/stat (mtime probe) + realpath, each release rmdir: that is the cost shown.
 */
export function createUncontendedCases(folder: string): UncontendedCases {
  const flockPath = join(folder, 'bare-flock.lock');
  const memhubPath = join(folder, 'memhub.lock');
  const properPath = join(folder, 'proper-lockfile.target');
  // proper-lockfile resolves the real path of the file it guards, so the file must exist.
  writeFileSync(properPath, '');

  // The floor keeps its descriptor open across operations, as memhub keeps its own.
  const fd = openSync(flockPath, 'w');
  const lock = openLock(memhubPath, { purpose: 'bench uncontended' });

  const cases: UncontendedCase[] = [
    {
      id: 'a',
      name: 'bare flockSync(fd, LOCK_EX|LOCK_NB) + flockSync(fd, LOCK_UN)',
      run(count) {
        for (let i = 0; i < count; i += 1) {
          flockSync(fd, LOCK_EX | LOCK_NB);
          flockSync(fd, LOCK_UN);
        }
      },
    },
    {
      id: 'b',
      name: 'memhub acquireSync() + release()',
      properLockfilePeer: 'e1',
      run(count) {
        for (let i = 0; i < count; i += 1) lock.acquireSync().release();
      },
    },
    {
      id: 'c',
      name: 'memhub await acquire() + release()',
      properLockfilePeer: 'e2',
      async run(count) {
        for (let i = 0; i < count; i += 1) (await lock.acquire()).release();
      },
    },
    {
      id: 'd',
      name: 'memhub await withLock(async () => {})',
      properLockfilePeer: 'e2',
      async run(count) {
        for (let i = 0; i < count; i += 1) await lock.withLock(noop);
      },
    },
    {
      id: 'e1',
      name: 'proper-lockfile lockSync() + release()',
      run(count) {
        for (let i = 0; i < count; i += 1) properLockfile.lockSync(properPath)();
      },
    },
    {
      id: 'e2',
      name: 'proper-lockfile await lock() + await release()',
      async run(count) {
        for (let i = 0; i < count; i += 1) await (await properLockfile.lock(properPath))();
      },
    },
  ];

  return {
    cases,
    close() {
      lock.close();
      closeSync(fd);
    },
  };
}
