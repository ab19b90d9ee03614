import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FileLock, type LockModeName, lockStatus, openLock } from '../src/index.js';
import { FixtureProcess } from './support/processes.js';

let dir: string;
const children: FixtureProcess[] = [];
const locks: FileLock[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'memhub-lock-'));
});

afterEach(async () => {
  for (const lock of locks.splice(0)) lock.close();
  for (const child of children.splice(0)) {
    if (child.child.exitCode === null && child.child.signalCode === null) child.kill('SIGKILL');
    await child.exited();
  }
  rmSync(dir, { recursive: true, force: true });
});

function startHolder(config: { lockPath: string; purpose: string; mode?: LockModeName }): FixtureProcess {
  const holder = new FixtureProcess('holder-child.ts', [JSON.stringify(config)]);
  children.push(holder);
  return holder;
}

function track(lock: FileLock): FileLock {
  locks.push(lock);
  return lock;
}

describe('kill -9 of the holder', () => {
  it('a holder killed with SIGKILL frees the lock for the next waiter at once', async () => {
    const lockPath = join(dir, 'store.lock');
    const holder = startHolder({ lockPath, purpose: 'crash-test writer' });
    await holder.waitForLine('held');

    const lock = track(openLock(lockPath, { purpose: 'next waiter' }));
    let settled = false;
    const waiting = lock.acquire({ timeoutMs: 10_000 });
    waiting.then(
      () => (settled = true),
      () => (settled = true),
    );
    // The waiter is queued behind the live holder, well before the kill.
    await sleep(200);
    expect(settled).toBe(false);
    expect(lock.status().state).toBe('exclusive');

    const killedAt = performance.now();
    holder.kill('SIGKILL');
    const held = await waiting;
    const waitAfterKill = performance.now() - killedAt;

    expect(await holder.exited()).toBe('SIGKILL');
    // The kernel dropped the dead process's flock: the waiter got it far below its 10 s timeout.
    expect(waitAfterKill).toBeLessThan(2000);
    expect(held.mode).toBe('exclusive');
    expect(held.released).toBe(false);
    expect(lock.metrics()).toMatchObject({ acquisitions: 1, contended: 1, timeouts: 0 });
    expect(lock.status()).toMatchObject({
      state: 'exclusive',
      holders: [{ pid: process.pid, purpose: 'next waiter', source: 'this-thread' }],
    });
    held.release();
    expect(lockStatus(lockPath).state).toBe('free');
  });

  it("after a holder is killed with SIGKILL, lockStatus reports the lock free and the dead holder's record stale", async () => {
    const lockPath = join(dir, 'store.lock');
    const purpose = 'crash-test writer';
    const holder = startHolder({ lockPath, purpose });
    await holder.waitForLine('held');
    const pid = holder.pid;

    expect(lockStatus(lockPath)).toMatchObject({
      state: 'exclusive',
      holders: [{ pid, purpose, mode: 'exclusive', alive: true }],
      staleMetadata: false,
    });

    holder.kill('SIGKILL');
    expect(await holder.exited()).toBe('SIGKILL');

    // Nobody has taken the lock since the kill: the record the dead holder wrote is all that is left.
    const expected = {
      state: 'free',
      holders: [],
      staleMetadata: true,
      lastHolder: { pid, purpose, mode: 'exclusive', alive: false, source: 'metadata' },
    };
    expect(lockStatus(lockPath)).toMatchObject(expected);
    // A FileLock of this process that is open but not holding reports the same.
    const lock = track(openLock(lockPath));
    expect(lock.status()).toMatchObject(expected);
    expect(lockStatus(lockPath)).toMatchObject(expected);

    // The next holder takes it without waiting and overwrites the stale record.
    const held = lock.tryAcquire({ purpose: 'after the crash' });
    expect(held).not.toBeNull();
    held?.release();
    expect(lockStatus(lockPath)).toMatchObject({
      state: 'free',
      staleMetadata: false,
      lastHolder: { pid: process.pid, purpose: 'after the crash', alive: true },
    });
  });
});
