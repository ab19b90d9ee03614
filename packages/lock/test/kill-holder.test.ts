import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { type LockModeName, lockStatus } from '../src/index.js';
import type { FixtureProcess } from './support/processes.js';
import { useScratch } from './support/scratch.js';

const scratch = useScratch('memhub-lock-');

function startHolder(config: { lockPath: string; purpose: string; mode?: LockModeName }): FixtureProcess {
  return scratch.spawn('holder-child.ts', [JSON.stringify(config)]);
}

describe('kill -9 of the holder', () => {
  it('a holder killed with SIGKILL frees the lock for the next waiter at once', async () => {
    const lockPath = scratch.path('store.lock');
    const holder = startHolder({ lockPath, purpose: 'crash-test writer' });
    await holder.waitForLine('held');

    const lock = scratch.lock(lockPath, { purpose: 'next waiter' });
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
    const lockPath = scratch.path('store.lock');
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
    const lock = scratch.lock(lockPath);
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
    expect(lockStatus(lockPath).lastHolder?.releasedAt).toBeUndefined();
  });

  it('a holder that closes its lock marks its record released: after it exits, the record is not stale, unlike one killed', async () => {
    const closedPath = scratch.path('closed.lock');
    const killedPath = scratch.path('killed.lock');
    const closing = startHolder({ lockPath: closedPath, purpose: 'closes cleanly' });
    const killed = startHolder({ lockPath: killedPath, purpose: 'killed while holding' });
    await closing.waitForLine('held');
    await killed.waitForLine('held');
    const before = Date.now();
    // Released, then the lock closed and the process ended: the record says when it was closed.
    closing.send('release');
    closing.send('exit');
    expect(await closing.exited()).toBe(0);
    killed.kill('SIGKILL');
    expect(await killed.exited()).toBe('SIGKILL');

    const clean = lockStatus(closedPath);
    expect(clean).toMatchObject({ state: 'free', staleMetadata: false, lastHolder: { pid: closing.pid, purpose: 'closes cleanly', alive: false } });
    expect(Date.parse(clean.lastHolder!.releasedAt!)).toBeGreaterThanOrEqual(before);
    const died = lockStatus(killedPath);
    expect(died).toMatchObject({ state: 'free', staleMetadata: true, lastHolder: { pid: killed.pid, purpose: 'killed while holding', alive: false } });
    expect(died.lastHolder!.releasedAt).toBeUndefined();
  });

  it('closing a lock never overwrites the record of a holder that took it meanwhile', async () => {
    const lockPath = scratch.path('taken.lock');
    const first = scratch.lock(lockPath);
    first.tryAcquire({ purpose: 'first' })!.release();
    const second = startHolder({ lockPath, purpose: 'second, still holding' });
    await second.waitForLine('held');
    first.close();
    const status = lockStatus(lockPath);
    expect(status).toMatchObject({ state: 'exclusive', holders: [{ pid: second.pid, purpose: 'second, still holding' }] });
    expect(status.lastHolder?.releasedAt).toBeUndefined();
    second.send('release');
    second.send('exit');
    expect(await second.exited()).toBe(0);
    expect(lockStatus(lockPath)).toMatchObject({ staleMetadata: false, lastHolder: { pid: second.pid, releasedAt: expect.any(String) } });
  });
});
