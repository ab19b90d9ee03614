import { describe, expect, it } from 'vitest';
import { useScratch } from './support/scratch.js';

const scratch = useScratch('memhub-lock-metrics-');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('metrics()', () => {
  it('adds up how long the lock was held and waited for, exactly, beside the percentiles', async () => {
    const lock = scratch.lock(scratch.path('metrics.lock'), { purpose: 'metrics test' });
    const started = performance.now();
    for (let round = 0; round < 3; round += 1) {
      const held = await lock.acquire();
      await sleep(30);
      held.release();
    }
    const elapsed = performance.now() - started;
    // A second call chain queues behind the first: its wait is the first one's hold.
    const first = await lock.acquire();
    const second = lock.acquire();
    await sleep(40);
    first.release();
    (await second).release();

    const { hold, wait } = lock.metrics();
    expect(hold.count).toBe(5);
    expect(hold.totalMs).toBeGreaterThanOrEqual(3 * 29 + 39);
    expect(hold.totalMs, 'no more than the time the holds took').toBeLessThan(elapsed + 40 + 40);
    expect(hold.totalMs).toBeGreaterThanOrEqual(hold.max);
    expect(wait.count).toBe(5);
    expect(wait.totalMs).toBeGreaterThanOrEqual(39);
    expect(wait.totalMs).toBeLessThan(hold.totalMs);
  });
});
