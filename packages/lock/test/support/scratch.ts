import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { afterEach, beforeEach } from 'vitest';
import { type FileLock, openLock, type OpenLockOptions } from '../../src/index.js';
import { FixtureProcess, startFixtureWorker } from './processes.js';

/**
 * A fresh temp folder for each test, and everything a test starts in it, undone after the test.
 *
 * Every test file here needs the same scaffolding: a folder per test, and lock objects, child
 * processes, worker threads and grandchild pids that must not outlive the test, even when it fails
 * half-way (a live holder left behind would hold a lock or keep vitest waiting). Call it once at the
 * top of a file, or of a describe block; it registers its own beforeEach and afterEach.
 *
 * After each test, in this order: close the locks, SIGKILL and await the children still running,
 * terminate the workers, SIGKILL the extra pids, remove the folder. Each step runs even if an
 * earlier one threw; the first error is thrown at the end.
 */
export function useScratch(prefix: string) {
  let current: string | undefined;
  const locks: FileLock[] = [];
  const children: FixtureProcess[] = [];
  const workers: Worker[] = [];
  const pids: number[] = [];
  const dir = (): string => {
    if (current === undefined) throw new Error('useScratch: there is no scratch folder outside a test');
    return current;
  };

  beforeEach(() => {
    current = mkdtempSync(join(tmpdir(), prefix));
  });

  afterEach(async () => {
    const errors: unknown[] = [];
    const attempt = async (step: () => unknown) => {
      try {
        await step();
      } catch (error) {
        errors.push(error);
      }
    };
    for (const lock of locks.splice(0)) await attempt(() => lock.close());
    for (const child of children.splice(0)) {
      await attempt(() => {
        if (child.child.exitCode === null && child.child.signalCode === null) child.kill('SIGKILL');
        return child.exited();
      });
    }
    await attempt(() => Promise.all(workers.splice(0).map((worker) => worker.terminate())));
    for (const pid of pids.splice(0)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    const folder = current;
    current = undefined;
    if (folder !== undefined) await attempt(() => rmSync(folder, { recursive: true, force: true }));
    if (errors.length > 0) throw errors[0];
  });

  return {
    /** The current test's folder. */
    get dir(): string {
      return dir();
    },
    path(name: string): string {
      return join(dir(), name);
    },
    spawn(fixtureName: string, args: readonly string[] = [], env: NodeJS.ProcessEnv = {}): FixtureProcess {
      const child = new FixtureProcess(fixtureName, args, env);
      children.push(child);
      return child;
    },
    worker(fixtureName: string, data: unknown): Worker {
      const worker = startFixtureWorker(fixtureName, data);
      workers.push(worker);
      return worker;
    },
    lock(path: string, options?: OpenLockOptions): FileLock {
      const lock = openLock(path, options);
      locks.push(lock);
      return lock;
    },
    /** A process the test did not start itself (a grandchild), to SIGKILL after the test. */
    killAfterwards(pid: number): void {
      pids.push(pid);
    },
  };
}
