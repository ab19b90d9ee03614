import { beforeEach, describe, expect, it } from 'vitest';
import type { FileLock } from '../src/index.js';
import { useScratch } from './support/scratch.js';

const scratch = useScratch('memhub-lock-context-');
let lock: FileLock;

beforeEach(() => {
  lock = scratch.lock(scratch.path('context.lock'));
});

describe('the chain context outlives the hold', () => {
  it('a callback scheduled inside withLock that runs after the hold ended must take the lock anew', async () => {
    let late!: Promise<{ reentrant: boolean; exclusive: boolean }>;
    await lock.withLock(async () => {
      late = new Promise((resolve) => {
        // Inherits the chain's context, but runs when withLock has released.
        setTimeout(() => {
          void lock.withLock(async () => {
            const inner = await lock.acquire({ timeoutMs: 0 });
            resolve({ reentrant: inner.reentrant, exclusive: lock.status().state === 'exclusive' });
          });
        }, 20);
      });
    });
    expect(lock.status().state).toBe('free');
    // The outer withLock of the late callback is a real hold; the acquire inside it is reentrant.
    expect(await late).toEqual({ reentrant: true, exclusive: true });
    expect(lock.metrics().acquisitions).toBe(2);
  });

  it('a late callback is excluded by another chain that holds the lock by then', async () => {
    let lateAcquire!: Promise<unknown>;
    await lock.withLock(async () => {
      lateAcquire = new Promise((resolve) => {
        setTimeout(() => resolve(lock.acquire({ timeoutMs: 50 }).then(() => 'granted', (error: Error) => error.name)), 20);
      });
    });
    const other = await lock.acquire(); // a different chain holds it when the callback runs
    expect(await lateAcquire).toBe('LockTimeoutError');
    other.release();
  });
});
