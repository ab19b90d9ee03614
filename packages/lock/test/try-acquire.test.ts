import { describe, expect, it } from 'vitest';
import { openLock } from '../src/index.js';
import { useScratch } from './support/scratch.js';

const scratch = useScratch('memhub-lock-try-');

describe('tryAcquire', () => {
  it('takes a free lock at once, and with yieldToStarved leaves it to a waiter of another process that has waited past the fairness threshold', async () => {
    const path = scratch.path('try.lock');
    const lock = openLock(path);
    const free = lock.tryAcquire({ yieldToStarved: true });
    expect(free).not.toBeNull();
    // A process that starts waiting while this one holds the lock, and waits well past 20 ms.
    const waiter = scratch.spawn('repeated-acquirer.ts', [path, '1', '20000']);
    await waiter.waitForLine('started');
    await new Promise((resolve) => setTimeout(resolve, 300));
    free?.release();
    expect(lock.tryAcquire({ yieldToStarved: true })).toBeNull();
    await waiter.waitForLine('done 1');
    const after = lock.tryAcquire({ yieldToStarved: true });
    expect(after).not.toBeNull();
    after?.release();
    lock.close();
  });

  it('refuses a yieldToStarved that is not a boolean', () => {
    const lock = openLock(scratch.path('bad.lock'));
    expect(() => lock.tryAcquire({ yieldToStarved: 'yes' as never })).toThrow(/yieldToStarved/);
    lock.close();
  });
});
