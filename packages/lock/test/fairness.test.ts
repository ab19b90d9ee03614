import { describe, expect, it } from 'vitest';
import { openLock } from '../src/index.js';
import { useScratch } from './support/scratch.js';

const scratch = useScratch('memhub-lock-fair-');

describe('fairness between processes', () => {
  it('a process taking the lock back to back steps aside for a waiting process within a few slices', async () => {
    const lockPath = scratch.path('busy.lock');
    const busy = scratch.spawn('back-to-back-holder.ts', [lockPath, '5000', '5']);
    await busy.waitForLine('started');
    await new Promise((resolve) => setTimeout(resolve, 200)); // well into its busy period

    const lock = openLock(lockPath);
    const waits: number[] = [];
    for (let round = 0; round < 5; round += 1) {
      const started = performance.now();
      // Without the waiter's note and the holder's yield, a poll would have to land in the
      // microsecond gap between a release and the next acquire (odds of about 1 in 1,000 a poll).
      const held = await lock.acquire({ timeoutMs: 3_000 });
      waits.push(performance.now() - started);
      held.release();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    lock.close();
    expect(busy.lines.some((line) => line.startsWith('done')), 'the busy process was still at work').toBe(false);
    expect(Math.max(...waits)).toBeLessThan(300);
    await busy.waitForLine('done', 10_000);
  });
});
