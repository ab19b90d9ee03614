import { beforeEach, describe, expect, it } from 'vitest';
import {
  LockClosedError,
  LockDeadlockError,
  LockTimeoutError,
  LockUpgradeError,
  openLock,
  type FileLock,
} from '../src/index.js';
import { useScratch } from './support/scratch.js';

const scratch = useScratch('memhub-lock-chain-');
let lock: FileLock;

beforeEach(() => {
  lock = scratch.lock(scratch.path('chain.lock'), { purpose: 'chain test' });
});

const tick = (ms = 10) => new Promise((resolve) => setTimeout(resolve, ms));

describe('one async call chain versus another', () => {
  it('is reentrant within the chain that holds the lock, however deep it awaits', async () => {
    const depths: boolean[] = [];
    await lock.withLock(async () => {
      await tick();
      const inner = await lock.acquire({ timeoutMs: 100 });
      depths.push(inner.reentrant);
      await lock.withLock(async () => {
        await tick();
        depths.push(lock.tryAcquire()?.reentrant ?? false);
        depths.push(lock.acquireSync({ timeoutMs: 0 }).reentrant);
      });
      inner.release();
      expect(lock.status().state, 'an inner release does not end the outer hold').toBe('exclusive');
    });
    expect(depths).toEqual([true, true, true]);
    expect(lock.status().state).toBe('free');
    expect(lock.metrics().acquisitions).toBe(1);
  });

  it('makes a different chain of the same thread wait its turn, in arrival order', async () => {
    const events: string[] = [];
    const first = lock.withLock(async () => {
      events.push('first in');
      await tick(30);
      events.push('first out');
    });
    const second = lock.withLock(async () => {
      events.push('second in');
      events.push('second out');
    });
    const third = lock.withLock(async () => {
      events.push('third in');
    });
    await Promise.all([first, second, third]);
    expect(events).toEqual(['first in', 'first out', 'second in', 'second out', 'third in']);
    expect(lock.metrics().contended).toBe(2);
  });

  it('times out a different chain and names this thread as the holder', async () => {
    let leave!: () => void;
    const holding = lock.withLock(() => new Promise<void>((resolve) => (leave = resolve)), {
      purpose: 'held by chain one',
    });
    await tick();
    const waiting = lock.acquire({ timeoutMs: 50 });
    await expect(waiting).rejects.toBeInstanceOf(LockTimeoutError);
    await expect(waiting).rejects.toThrow(/another call chain of this thread/);
    await expect(waiting).rejects.toThrow(/held by chain one/);
    await expect(waiting).rejects.toThrow(new RegExp(`pid ${process.pid}`));
    leave();
    await holding;
  });

  it('counts another FileLock on the same file, used inside the holding chain, as the same lock', async () => {
    await lock.withLock(async () => {
      const other = openLock(lock.path);
      expect((await other.acquire({ timeoutMs: 0 })).reentrant).toBe(true);
      other.close();
    });
  });

  it('refuses to upgrade a shared hold to exclusive within a chain instead of deadlocking', async () => {
    await lock.withLock(
      async () => {
        await expect(lock.acquire()).rejects.toBeInstanceOf(LockUpgradeError);
        expect((await lock.acquire({ mode: 'shared' })).reentrant).toBe(true);
      },
      { mode: 'shared' },
    );
  });

  it('fails a synchronous acquire at once when another chain of this thread holds the lock', async () => {
    const held = await lock.acquire();
    expect(() => lock.acquireSync({ timeoutMs: 5_000 })).toThrow(LockDeadlockError);
    held.release();
    lock.acquireSync().release();
  });
});

describe('releasing', () => {
  it('withLock releases when the function throws, and passes the error on', async () => {
    await expect(
      lock.withLock(async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(lock.status().state).toBe('free');
    expect(() =>
      lock.withLockSync(() => {
        throw new Error('sync boom');
      }),
    ).toThrow('sync boom');
    expect(lock.status().state).toBe('free');
  });

  it('await using and using release at the end of the scope, also on throw', async () => {
    {
      await using held = await lock.acquire();
      expect(held.released).toBe(false);
      expect(lock.status().state).toBe('exclusive');
    }
    expect(lock.status().state).toBe('free');
    try {
      using held = lock.acquireSync();
      expect(held.mode).toBe('exclusive');
      throw new Error('leave the scope');
    } catch {
      // expected
    }
    expect(lock.status().state).toBe('free');
  });

  it('a second release of a handle does nothing', async () => {
    const held = await lock.acquire();
    held.release();
    const next = await lock.acquire({ timeoutMs: 0 });
    held.release();
    expect(lock.status().state, 'the stale handle must not release the new hold').toBe('exclusive');
    next.release();
  });

  it('close() releases the holds taken through it and rejects its queued acquires', async () => {
    const other = openLock(lock.path);
    const held = await other.acquire();
    const queued = lock.acquire({ timeoutMs: 10_000 });
    const queuedOnOther = other.acquire({ timeoutMs: 10_000 });
    other.close();
    expect(held.released).toBe(true);
    await expect(queuedOnOther).rejects.toBeInstanceOf(LockClosedError);
    (await queued).release();
    await expect(other.acquire()).rejects.toBeInstanceOf(LockClosedError);
  });
});
