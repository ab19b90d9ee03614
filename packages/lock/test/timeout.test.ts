import { beforeEach, describe, expect, it } from 'vitest';
import {
  LockAbortedError,
  LockError,
  type LockModeName,
  LockTimeoutError,
} from '../src/index.js';
import type { FixtureProcess } from './support/processes.js';
import { useScratch } from './support/scratch.js';

const scratch = useScratch('memhub-lock-');
let lockPath: string;

beforeEach(() => {
  lockPath = scratch.path('store.lock');
});

/** Starts a child that holds the lock, and resolves once it does. */
async function holdInChild(purpose: string, mode: LockModeName = 'exclusive'): Promise<FixtureProcess> {
  const holder = scratch.spawn('holder-child.ts', [JSON.stringify({ lockPath, purpose, mode })]);
  await holder.waitForLine('held');
  return holder;
}

async function releaseInChild(holder: FixtureProcess): Promise<void> {
  holder.send('release');
  await holder.waitForLine('released');
}

/**
 * Resolves `'control timer'` after `ms`: a plain timer of this process, the control that the lock's
 * own timers (its timeout, its abort handling) are raced against. Timers of one process fire in
 * the order they are due however late a loaded machine runs them all, so "the lock's rejection
 * came before a control timer due later" holds on any machine, and fails when the lock waits
 * past its deadline.
 */
function controlTimer(ms: number): Promise<'control timer'> {
  return new Promise((resolve) => setTimeout(() => resolve('control timer'), ms));
}

/** The rejection of `promise`; fails the test if it resolves. */
async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${String(value)}`);
    },
    (error: unknown) => error,
  );
}

describe('timeouts', () => {
  it('a waiter that times out gets LockTimeoutError naming the holder: its pid, its purpose and since when', async () => {
    const holder = await holdInChild('nightly-compaction');
    const lock = scratch.lock(lockPath, { purpose: 'interactive write' });
    const timeoutsBefore = lock.metrics().timeouts;

    const startedAt = performance.now();
    const control = controlTimer(2 * 300);
    const error = await Promise.race([rejectionOf(lock.acquire({ timeoutMs: 300 })), control]);
    const elapsed = performance.now() - startedAt;
    // It waited for its timeout, not much less and not much more: not after a timer due twice as late.
    expect(error, 'the timeout came after a timer due twice as late').not.toBe('control timer');

    expect(error).toBeInstanceOf(LockTimeoutError);
    expect(error).toBeInstanceOf(LockError);
    const timeout = error as LockTimeoutError;
    expect(timeout.code).toBe('ERR_LOCK_TIMEOUT');
    expect(timeout.name).toBe('LockTimeoutError');
    expect(timeout.message).toContain(String(holder.pid));
    expect(timeout.message).toContain(`pid ${holder.pid}`);
    expect(timeout.message).toContain('nightly-compaction');
    expect(timeout.message).toContain('since');
    expect(timeout.message).toMatch(/since \d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}/);
    expect(timeout.message).toContain(lock.realPath);
    expect(timeout.path).toBe(lock.realPath);
    expect(timeout.mode).toBe('exclusive');
    expect(timeout.holders).toHaveLength(1);
    expect(timeout.holders[0]?.pid).toBe(holder.pid);
    expect(timeout.holders[0]).toMatchObject({ purpose: 'nightly-compaction', mode: 'exclusive', alive: true });
    expect(timeout.waitedMs).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(lock.metrics().timeouts).toBe(timeoutsBefore + 1);
    expect(lock.metrics().acquisitions).toBe(0);

    // The timed-out waiter left nothing behind: once the holder lets go, the lock is free to take.
    await releaseInChild(holder);
    const held = await lock.acquire({ timeoutMs: 2000 });
    expect(held.mode).toBe('exclusive');
    held.release();
  });

  it('acquireSync that times out reports the holder the same way', async () => {
    const holder = await holdInChild('nightly-compaction');
    const lock = scratch.lock(lockPath);
    let error: unknown;
    try {
      lock.acquireSync({ timeoutMs: 300 });
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(LockTimeoutError);
    const timeout = error as LockTimeoutError;
    expect(timeout.code).toBe('ERR_LOCK_TIMEOUT');
    expect(timeout.message).toContain(`pid ${holder.pid}`);
    expect(timeout.message).toContain('nightly-compaction');
    expect(timeout.holders[0]?.pid).toBe(holder.pid);
    expect(timeout.waitedMs).toBeGreaterThanOrEqual(290);
    expect(lock.metrics().timeouts).toBe(1);
  });

  it('an exclusive waiter behind a shared holder times out with an error that says the lock is held shared', async () => {
    const holder = await holdInChild('backup reader', 'shared');
    const lock = scratch.lock(lockPath);

    const error = await rejectionOf(lock.acquire({ mode: 'exclusive', timeoutMs: 300 }));

    expect(error).toBeInstanceOf(LockTimeoutError);
    const timeout = error as LockTimeoutError;
    expect(timeout.code).toBe('ERR_LOCK_TIMEOUT');
    expect(timeout.mode).toBe('exclusive');
    expect(timeout.message).toContain('waiting for the exclusive lock');
    expect(timeout.message).toContain(`held shared by pid ${holder.pid}`);
    expect(timeout.message).toContain('backup reader');
    expect(timeout.holders[0]).toMatchObject({ pid: holder.pid, mode: 'shared', purpose: 'backup reader' });
    expect(lock.metrics().timeouts).toBe(1);

    // A shared request, by contrast, is granted at once alongside the shared holder.
    const shared = lock.tryAcquire({ mode: 'shared' });
    expect(shared).not.toBeNull();
    shared?.release();
  });
});

describe('AbortSignal', () => {
  it('an acquire whose signal is aborted while it waits rejects with LockAbortedError and leaves the queue', async () => {
    const holder = await holdInChild('nightly-compaction');
    const lock = scratch.lock(lockPath);
    const controller = new AbortController();
    const reason = new Error('the request was cancelled');
    setTimeout(() => controller.abort(reason), 50);

    const startedAt = performance.now();
    const control = controlTimer(2 * 50);
    const error = await Promise.race([rejectionOf(lock.acquire({ timeoutMs: 10_000, signal: controller.signal })), control]);
    const elapsed = performance.now() - startedAt;
    // Rejected when the signal fired: before a timer due twice as late, far from the 10 s timeout.
    expect(error, 'the abort was not acted on when the signal fired').not.toBe('control timer');

    expect(error).toBeInstanceOf(LockAbortedError);
    expect(error).toBeInstanceOf(LockError);
    const aborted = error as LockAbortedError;
    expect(aborted.code).toBe('ERR_LOCK_ABORTED');
    expect(aborted.cause).toBe(reason);
    expect(aborted.path).toBe(lock.realPath);
    expect(elapsed).toBeGreaterThanOrEqual(40);
    expect(lock.metrics()).toMatchObject({ aborts: 1, timeouts: 0, acquisitions: 0 });

    // The aborted waiter is out of the queue: tryAcquire (which never passes a queued caller)
    // gets the lock as soon as the holder lets go.
    await releaseInChild(holder);
    const held = lock.tryAcquire();
    expect(held).not.toBeNull();
    held?.release();
  });

  it('an acquire with an already-aborted signal rejects at once, held or free', async () => {
    const holder = await holdInChild('nightly-compaction');
    const lock = scratch.lock(lockPath);
    const reason = new Error('cancelled before it started');

    // At once: before any timer, even one due now.
    const control = controlTimer(0);
    const error = await Promise.race([rejectionOf(lock.acquire({ timeoutMs: 10_000, signal: AbortSignal.abort(reason) })), control]);
    expect(error, 'an aborted signal did not reject at once').not.toBe('control timer');
    expect(error).toBeInstanceOf(LockAbortedError);
    expect((error as LockAbortedError).code).toBe('ERR_LOCK_ABORTED');
    expect((error as LockAbortedError).cause).toBe(reason);

    await releaseInChild(holder);
    const onFree = await rejectionOf(lock.acquire({ signal: AbortSignal.abort() }));
    expect(onFree).toBeInstanceOf(LockAbortedError);
    expect(lock.metrics()).toMatchObject({ aborts: 2, acquisitions: 0 });
    // Nothing was taken by the aborted calls.
    expect(lock.status().state).toBe('free');
  });
});
