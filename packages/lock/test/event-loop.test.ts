import { lookup } from 'node:dns/promises';
import { writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { useScratch } from './support/scratch.js';
import { describeGaps, longestGap, TimerGapGauge } from './support/timer-gaps.js';

const scratch = useScratch('memhub-lock-');

/**
 * The holder releases by itself after this long only if the test never tells it to: in the
 * regression this test guards (waiters parked in blocking flocks on the libuv pool) the I/O below
 * cannot finish before the holder lets go, and the test fails when it does, instead of hanging.
 */
const HOLDER_GIVES_UP_MS = 10_000;
/** The window of the control: timer gaps while the eight wait. */
const CONTROL_MS = 250;
/** The hand-off to the eight waiters may take this many times the longest timer gap meanwhile or in the control. */
const HANDOFF_FACTOR = 20;

describe('waiting does not block the process', () => {
  it('eight async waiters queued on one lock leave fs and dns responsive, then get the lock in FIFO order', async () => {
    const lockPath = scratch.path('store.lock');
    const dataPath = scratch.path('data.txt');
    writeFileSync(dataPath, 'payload');
    const holder = scratch.spawn('holder-child.ts', [JSON.stringify({ lockPath, purpose: 'long write', holdMs: HOLDER_GIVES_UP_MS })]);
    await holder.waitForLine('held');
    await using gauge = await TimerGapGauge.start();

    const lock = scratch.lock(lockPath, { purpose: 'queued writer' });
    const order: number[] = [];
    const resolvedAt: number[] = [];
    const waiters = Array.from({ length: 8 }, (_, index) =>
      lock.acquire({ timeoutMs: 30_000, purpose: `waiter ${index}` }).then((held) => {
        order.push(index);
        resolvedAt.push(performance.now());
        held.release();
      }),
    );

    // While the eight wait, the libuv pool (4 threads by default) must stay free: a blocking
    // flock per waiter would park all of it until the holder lets go, and nothing below could
    // finish before that.
    const [reads, lookups] = await Promise.all([
      Promise.all(Array.from({ length: 4 }, () => readFile(dataPath, 'utf8'))),
      Promise.all(Array.from({ length: 4 }, () => lookup('localhost'))),
    ]);
    const sequentialRead = await readFile(dataPath, 'utf8');
    const sequentialLookup = await lookup('localhost');
    for (const read of [...reads, sequentialRead]) expect(read).toBe('payload');
    for (const resolved of [...lookups, sequentialLookup]) expect(resolved.address).toMatch(/^(127\.0\.0\.1|::1)$/);

    // The control: timer gaps while the eight wait, here and in a sibling process.
    await gauge.take();
    await sleep(CONTROL_MS);
    const beforeRelease = await gauge.take();
    // That I/O ran while the waiters were still queued behind the live holder, which holds the
    // lock until it is told to let go: nobody got the lock meanwhile.
    expect(holder.lines, 'the holder let go before the I/O finished').not.toContain('released');
    expect(order).toEqual([]);
    expect(lock.status()).toMatchObject({ state: 'exclusive', holders: [{ pid: holder.pid, purpose: 'long write' }] });
    const releaseSentAt = performance.now();
    holder.send('release');
    await Promise.all(waiters);
    const handOff = await gauge.take();

    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(lock.metrics()).toMatchObject({ acquisitions: 8, contended: 8, timeouts: 0 });
    expect(lock.status().state).toBe('free');
    // Promptly once the holder let go: the release woke the queue (a waiter left to a slow poll
    // would not be), within a multiple of the scheduling delays this machine shows right now.
    const allowed = HANDOFF_FACTOR * longestGap(beforeRelease.here, beforeRelease.sibling, handOff.here, handOff.sibling);
    const handOffMs = resolvedAt[7]! - releaseSentAt;
    expect(handOffMs, `${handOffMs.toFixed(1)} ms from the release to the eighth grant; ${describeGaps({ 'here while waiting': beforeRelease.here, 'sibling while waiting': beforeRelease.sibling, 'here meanwhile': handOff.here, 'sibling meanwhile': handOff.sibling })}`).toBeLessThan(allowed);
  });
});
