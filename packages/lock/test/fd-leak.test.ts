import { existsSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  LockAbortedError,
  LockClosedError,
  LockDeadlockError,
  type LockHandle,
  lockStatus,
  LockTimeoutError,
  openLock,
} from '../src/index.js';
import { useScratch } from './support/scratch.js';

const scratch = useScratch('memhub-lock-');

/** This process's open descriptors: number -> what it points at. */
function openDescriptors(): Map<string, string> {
  const descriptors = new Map<string, string>();
  for (const name of readdirSync('/proc/self/fd')) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${name}`);
    } catch {
      target = '(closed while listing: the listing itself)';
    }
    descriptors.set(name, target);
  }
  return descriptors;
}

/** The descriptors in `after` that were not in `before`, and the reverse, for a readable failure. */
function difference(before: Map<string, string>, after: Map<string, string>): { opened: string[]; closed: string[] } {
  const opened = [...after].filter(([fd, target]) => before.get(fd) !== target).map(([fd, target]) => `${fd} -> ${target}`);
  const closed = [...before].filter(([fd, target]) => after.get(fd) !== target).map(([fd, target]) => `${fd} -> ${target}`);
  return { opened, closed };
}

function inode(path: string): number {
  return statSync(path).ino;
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

/** Loads everything a first use loads (modules, the addon, lazily created handles) before counting. */
async function warmUp(): Promise<void> {
  const lock = openLock(scratch.path('warm-up.lock'));
  lock.acquireSync().release();
  (await lock.acquire({ mode: 'shared' })).release();
  const held = lock.acquireSync();
  await rejectionOf(openLock(lock.path).acquire({ timeoutMs: 1 }));
  held.release();
  lockStatus(lock.path);
  lock.close();
}

describe('no descriptor leaks', () => {
  it('10,000 acquire/release cycles, sync and async, exclusive and shared, leave the descriptor table as it was and the lock file in place', async () => {
    await warmUp();
    const lockPath = scratch.path('store.lock');
    const before = openDescriptors();

    const lock = openLock(lockPath, { purpose: 'cycles' });
    const other = openLock(lockPath, { purpose: 'other FileLock, same file' });
    const originalInode = inode(lockPath);

    for (let cycle = 0; cycle < 10_000; cycle += 1) {
      switch (cycle % 8) {
        case 0:
          lock.acquireSync().release();
          break;
        case 1:
          lock.acquireSync({ mode: 'shared' }).release();
          break;
        case 2:
          (await lock.acquire()).release();
          break;
        case 3:
          (await other.acquire({ mode: 'shared' })).release();
          break;
        case 4: {
          const held = lock.tryAcquire({ mode: cycle % 16 === 4 ? 'exclusive' : 'shared' });
          expect(held).not.toBeNull();
          held?.release();
          break;
        }
        case 5:
          await lock.withLock(async () => undefined, { mode: 'shared' });
          break;
        case 6:
          other.withLockSync(() => undefined);
          break;
        default: {
          // Queued in this thread: two shared holds, an exclusive behind them, a shared behind that.
          const grants: Promise<void>[] = [
            lock.acquire({ mode: 'shared' }),
            other.acquire({ mode: 'shared' }),
            lock.acquire(),
            other.acquire({ mode: 'shared' }),
          ].map((pending) => pending.then((held: LockHandle) => held.release()));
          await Promise.all(grants);
        }
      }
      if (cycle % 500 === 0) {
        // Failure paths too: a timeout, an abort and a refused synchronous wait, behind a hold.
        const held = lock.acquireSync();
        expect(await rejectionOf(other.acquire({ timeoutMs: 1 }))).toBeInstanceOf(LockTimeoutError);
        expect(await rejectionOf(other.acquire({ signal: AbortSignal.timeout(1) }))).toBeInstanceOf(LockAbortedError);
        expect(() => other.acquireSync({ timeoutMs: 1 })).toThrow(LockDeadlockError);
        held.release();
      }
    }

    expect(lock.metrics().acquisitions).toBeGreaterThanOrEqual(10_000);
    expect(lock.status().state).toBe('free');
    lock.close();
    other.close();

    const after = openDescriptors();
    expect(difference(before, after)).toEqual({ opened: [], closed: [] });
    expect(after.size).toBe(before.size);
    // The lock file is never unlinked or replaced.
    expect(existsSync(lockPath)).toBe(true);
    expect(inode(lockPath)).toBe(originalInode);
  });

  it('1,000 lock objects opened and closed (distinct paths, one path, closed while holding) leave no descriptor behind and every lock file in place', async () => {
    await warmUp();
    const before = openDescriptors();
    const inodes = new Map<string, number>();

    // 400 FileLocks on 400 distinct files, each closed before the next is opened; half hold first.
    for (let index = 0; index < 400; index += 1) {
      const path = scratch.path(`distinct-${index}.lock`);
      const lock = openLock(path);
      inodes.set(path, inode(path));
      if (index % 4 === 1) lock.acquireSync().release();
      if (index % 4 === 2) (await lock.acquire({ mode: 'shared' })).release();
      lock.close();
    }

    // 300 FileLocks on one file, all open at once (one descriptor between them), a third holding shared.
    const samePath = scratch.path('same.lock');
    const same = Array.from({ length: 300 }, () => openLock(samePath));
    inodes.set(samePath, inode(samePath));
    const sharedHolds = same.filter((_, index) => index % 3 === 0).map((lock) => lock.tryAcquire({ mode: 'shared' }));
    expect(sharedHolds.every((held) => held !== null)).toBe(true);
    expect(lockStatus(samePath).state).toBe('shared');
    for (const lock of same) lock.close();
    expect(sharedHolds.every((held) => held?.released === true)).toBe(true);
    expect(lockStatus(samePath).state).toBe('free');

    // 300 FileLocks closed while holding (sync or async, exclusive or shared); some with a waiter queued.
    const holdPath = scratch.path('closed-while-held.lock');
    for (let index = 0; index < 300; index += 1) {
      const lock = openLock(holdPath);
      if (index === 0) inodes.set(holdPath, inode(holdPath));
      const mode = index % 3 === 0 ? 'shared' : 'exclusive';
      const held = index % 2 === 0 ? lock.acquireSync({ mode }) : await lock.acquire({ mode });
      if (index % 10 === 0) {
        const queued = lock.acquire({ mode: 'exclusive', timeoutMs: 10_000 });
        if (mode === 'shared') lock.acquireSync({ mode: 'shared' }); // a second hold, also released by close()
        lock.close();
        expect(await rejectionOf(queued)).toBeInstanceOf(LockClosedError);
      } else {
        lock.close();
      }
      expect(held.released).toBe(true);
    }
    // close() really dropped the flock: a fresh FileLock takes it without waiting.
    const probe = openLock(holdPath);
    const taken = probe.tryAcquire();
    expect(taken).not.toBeNull();
    probe.close();
    expect(taken?.released).toBe(true);

    const after = openDescriptors();
    expect(difference(before, after)).toEqual({ opened: [], closed: [] });
    expect(after.size).toBe(before.size);
    // No lock file was unlinked or replaced.
    for (const [path, originalInode] of inodes) {
      expect(existsSync(path)).toBe(true);
      expect(inode(path)).toBe(originalInode);
    }
  });
});
