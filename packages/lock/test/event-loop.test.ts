import { lookup } from 'node:dns/promises';
import { writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { useScratch } from './support/scratch.js';

const scratch = useScratch('memhub-lock-');

/** Runs `operation` and returns how long it took, in milliseconds. */
async function timed<T>(operation: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const startedAt = performance.now();
  const value = await operation();
  return { value, ms: performance.now() - startedAt };
}

describe('waiting does not block the process', () => {
  it('eight async waiters queued on one lock leave fs and dns responsive, then get the lock in FIFO order', async () => {
    const lockPath = scratch.path('store.lock');
    const dataPath = scratch.path('data.txt');
    writeFileSync(dataPath, 'payload');
    const holdMs = 3000;
    const holder = scratch.spawn('holder-child.ts', [JSON.stringify({ lockPath, purpose: 'long write', holdMs })]);
    await holder.waitForLine('held');
    const heldAt = performance.now();

    const lock = scratch.lock(lockPath, { purpose: 'queued writer' });
    const order: number[] = [];
    const resolvedAt: number[] = [];
    const waiters = Array.from({ length: 8 }, (_, index) =>
      lock.acquire({ timeoutMs: 10_000, purpose: `waiter ${index}` }).then((held) => {
        order.push(index);
        resolvedAt.push(performance.now());
        held.release();
      }),
    );

    // While the eight wait, the libuv pool (4 threads by default) must stay free: a blocking
    // flock per waiter would park all of it until the holder lets go, some 3 s from now.
    const [reads, lookups] = await Promise.all([
      Promise.all(Array.from({ length: 4 }, () => timed(() => readFile(dataPath, 'utf8')))),
      Promise.all(Array.from({ length: 4 }, () => timed(() => lookup('localhost')))),
    ]);
    const sequentialRead = await timed(() => readFile(dataPath, 'utf8'));
    const sequentialLookup = await timed(() => lookup('localhost'));

    for (const read of [...reads, sequentialRead]) {
      expect(read.value).toBe('payload');
      expect(read.ms).toBeLessThan(1000);
    }
    for (const resolved of [...lookups, sequentialLookup]) {
      expect(resolved.value.address).toMatch(/^(127\.0\.0\.1|::1)$/);
      expect(resolved.ms).toBeLessThan(1000);
    }
    // That I/O ran while the waiters were still queued behind the live holder.
    expect(order).toEqual([]);
    expect(performance.now() - heldAt).toBeLessThan(holdMs);
    expect(lock.status()).toMatchObject({ state: 'exclusive', holders: [{ pid: holder.pid, purpose: 'long write' }] });

    await holder.waitForLine('released', 10_000);
    const releasedSeenAt = performance.now();
    await Promise.all(waiters);

    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    // Granted only after the holder let go, and promptly then: far inside the 10 s timeouts.
    expect(resolvedAt[0]!).toBeGreaterThan(heldAt + holdMs - 200);
    expect(resolvedAt[7]! - releasedSeenAt).toBeLessThan(1000);
    expect(lock.metrics()).toMatchObject({ acquisitions: 8, contended: 8, timeouts: 0 });
    expect(lock.status().state).toBe('free');
  });
});
