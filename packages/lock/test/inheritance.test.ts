import { once } from 'node:events';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FileLock, lockStatus, openLock } from '../src/index.js';
import { FixtureProcess, startFixtureWorker } from './support/processes.js';

let dir: string;
let lockPath: string;
const children: FixtureProcess[] = [];
const grandchildren: number[] = [];
const workers: Worker[] = [];
const locks: FileLock[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'memhub-lock-'));
  lockPath = join(dir, 'store.lock');
});

afterEach(async () => {
  for (const lock of locks.splice(0)) lock.close();
  for (const pid of grandchildren.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  for (const child of children.splice(0)) {
    if (child.child.exitCode === null && child.child.signalCode === null) child.kill('SIGKILL');
    await child.exited();
  }
  await Promise.all(workers.splice(0).map((worker) => worker.terminate()));
  rmSync(dir, { recursive: true, force: true });
});

function track(lock: FileLock): FileLock {
  locks.push(lock);
  return lock;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The descriptors of process `pid` that are open on the file at `path` (same device and inode). */
function descriptorsOn(pid: number | 'self', path: string): number[] {
  const target = statSync(path);
  const found: number[] = [];
  for (const name of readdirSync(`/proc/${pid}/fd`)) {
    const stat = statSync(`/proc/${pid}/fd/${name}`, { throwIfNoEntry: false });
    if (stat !== undefined && stat.dev === target.dev && stat.ino === target.ino) found.push(Number(name));
  }
  return found;
}

/** Starts holder-worker.ts in a worker thread, with the Worker defaults (trackUnmanagedFds: true). */
function startHolderWorker(style: 'sync' | 'async', purpose: string): Worker {
  const worker = startFixtureWorker('holder-worker.ts', { lockPath, purpose, style });
  workers.push(worker);
  return worker;
}

describe('lock descriptors are not inherited', () => {
  it('a grandchild spawned by the holder does not keep the lock: killing the holder frees it at once', async () => {
    const holder = new FixtureProcess('holder-child.ts', [
      JSON.stringify({ lockPath, purpose: 'spawns a grandchild', spawnGrandchild: true }),
    ]);
    children.push(holder);
    await holder.waitForLine('held');
    const grandchildPid = Number((await holder.waitForLine('grandchild ')).split(' ')[1]);
    expect(Number.isInteger(grandchildPid) && grandchildPid > 0).toBe(true);
    grandchildren.push(grandchildPid);

    // The holder has a descriptor on the lock file (so the /proc check can see one); the
    // grandchild, started by fork+exec while the lock was held, has none: it was close-on-exec.
    expect(descriptorsOn(holder.pid, lockPath).length).toBeGreaterThan(0);
    expect(descriptorsOn(grandchildPid, lockPath)).toEqual([]);

    holder.kill('SIGKILL');
    expect(await holder.exited()).toBe('SIGKILL');
    expect(isAlive(grandchildPid)).toBe(true);

    // No wait: the lock is free the moment the holder is gone, although its grandchild lives on.
    const lock = track(openLock(lockPath));
    const held = lock.tryAcquire({ purpose: 'after the holder died' });
    expect(held).not.toBeNull();
    expect(lockStatus(lockPath)).toMatchObject({
      state: 'exclusive',
      holders: [{ pid: process.pid, source: 'this-thread' }],
    });
    expect(isAlive(grandchildPid)).toBe(true);
    held?.release();
  });

  it.each(['sync', 'async'] as const)(
    'a worker thread holding the lock (acquired %s) frees it at once when it is terminated',
    async (style) => {
      const worker = startHolderWorker(style, 'worker writer');
      const [message] = (await once(worker, 'message')) as [{ type: string; threadId?: number; message?: string }];
      expect(message).toMatchObject({ type: 'held' });

      // The worker's flock is on its own descriptor: it excludes this thread.
      const workerDescriptors = descriptorsOn('self', lockPath);
      expect(workerDescriptors).toHaveLength(1);
      const lock = track(openLock(lockPath));
      expect(lock.tryAcquire()).toBeNull();
      expect(lockStatus(lockPath)).toMatchObject({
        state: 'exclusive',
        holders: [{ pid: process.pid, threadId: message.threadId, purpose: 'worker writer' }],
      });

      await worker.terminate();

      // Node closed the worker's raw descriptor as the thread ended (trackUnmanagedFds, on by
      // default), and with it the flock: the main thread gets the lock right away.
      const remaining = descriptorsOn('self', lockPath);
      expect(remaining.filter((fd) => workerDescriptors.includes(fd))).toEqual([]);
      const held = lock.tryAcquire();
      expect(held).not.toBeNull();
      expect(lockStatus(lockPath).state).toBe('exclusive');
      held?.release();
      expect(lockStatus(lockPath).state).toBe('free');
    },
  );
});
