import { once } from 'node:events';
import { readdirSync, statSync } from 'node:fs';
import type { Worker } from 'node:worker_threads';
import { beforeEach, describe, expect, it } from 'vitest';
import { lockStatus } from '../src/index.js';
import { useScratch } from './support/scratch.js';

const scratch = useScratch('memhub-lock-');
let lockPath: string;

beforeEach(() => {
  lockPath = scratch.path('store.lock');
});

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
  return scratch.worker('holder-worker.ts', { lockPath, purpose, style });
}

describe('lock descriptors are not inherited', () => {
  it('a grandchild spawned by the holder does not keep the lock: killing the holder frees it at once', async () => {
    const holder = scratch.spawn('holder-child.ts', [
      JSON.stringify({ lockPath, purpose: 'spawns a grandchild', spawnGrandchild: true }),
    ]);
    await holder.waitForLine('held');
    const grandchildPid = Number((await holder.waitForLine('grandchild ')).split(' ')[1]);
    expect(Number.isInteger(grandchildPid) && grandchildPid > 0).toBe(true);
    scratch.killAfterwards(grandchildPid);

    // The holder has a descriptor on the lock file (so the /proc check can see one); the
    // grandchild, started by fork+exec while the lock was held, has none: it was close-on-exec.
    expect(descriptorsOn(holder.pid, lockPath).length).toBeGreaterThan(0);
    expect(descriptorsOn(grandchildPid, lockPath)).toEqual([]);

    holder.kill('SIGKILL');
    expect(await holder.exited()).toBe('SIGKILL');
    expect(isAlive(grandchildPid)).toBe(true);

    // No wait: the lock is free the moment the holder is gone, although its grandchild lives on.
    const lock = scratch.lock(lockPath);
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
      const lock = scratch.lock(lockPath);
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
