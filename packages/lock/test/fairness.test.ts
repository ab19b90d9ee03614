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

  it('several waiting processes all get in while another takes the lock back to back', async () => {
    const lockPath = scratch.path('busy.lock');
    const busy = scratch.spawn('back-to-back-holder.ts', [lockPath, '6000', '5']);
    await busy.waitForLine('started');
    await new Promise((resolve) => setTimeout(resolve, 200));

    // Each waiter must win 5 holds, each within 3 s: the longest waiter is let in first, so none
    // of them loses every race to the busy process or to the other waiters.
    const waiters = Array.from({ length: 3 }, () => scratch.spawn('repeated-acquirer.ts', [lockPath, '5', '3000']));
    const outcomes = await Promise.all(
      waiters.map((waiter) => Promise.race([waiter.waitForLine('done', 20_000), waiter.waitForLine('timeout', 20_000)])),
    );
    expect(outcomes).toEqual(['done 5', 'done 5', 'done 5']);
    expect(busy.lines.some((line) => line.startsWith('done')), 'the busy process was still at work').toBe(false);
    await busy.waitForLine('done', 15_000);
  });

  it('a waiter far into its backoff is woken by the release in another process, not left to its next poll', async () => {
    const lockPath = scratch.path('handoff.lock');
    const lock = openLock(lockPath);
    const rounds = 10;
    for (let round = 0; round < rounds; round += 1) {
      const holder = scratch.spawn('hold-until-told.ts', [lockPath]);
      await holder.waitForLine('held');
      const waiting = lock.acquire({ timeoutMs: 10_000 });
      // Long enough for the waiter's backoff to reach its longest interval between polls.
      await new Promise((resolve) => setTimeout(resolve, 100));
      holder.send('release');
      (await waiting).release();
      await holder.exited();
    }
    // A release wakes the waiter within a fraction of a millisecond, while its next poll is up to
    // a few milliseconds away: nearly every hand-off is a wake-up. With polling alone, none is.
    expect(lock.metrics().wokenByRelease).toBeGreaterThanOrEqual(rounds / 2);
    lock.close();
  });
});
