import { describe, expect, it } from 'vitest';
import { openLock } from '../src/index.js';
import { useScratch } from './support/scratch.js';
import { describeGaps, longestGap, TimerGapGauge } from './support/timer-gaps.js';

const scratch = useScratch('memhub-lock-fair-');

/**
 * How long the busy process takes the lock back to back, at most: far longer than the waiters
 * need. It is killed once they are done; that it was still at work then is what shows that they
 * got in while it never paused, not after it stopped.
 */
const BUSY_MS = 60_000;
/** The busy process's time in the lock each time it takes it. */
const SLICE_MS = 5;
/**
 * A wait for a fair turn may take this many times the longest timer gap measured meanwhile (here
 * and in a sibling process) or a slice, whichever is longer: on a loaded machine the waiter is
 * scheduled late and the busy process is descheduled while it holds the lock, and the gaps show
 * both. Left to luck (no note, no yield, no wake-up: a poll has to land in the microseconds between
 * a release and the next acquire), a waiter here waited 60 to 760 ms, 370 ms on average, with
 * timer gaps of 10 to 20 ms: over both limits.
 */
const WAIT_FACTOR = 20;
/** The same for the mean wait, which one unlucky moment moves far less than the longest. */
const MEAN_WAIT_FACTOR = 5;
/** Turns the waiter takes in the first test. */
const ROUNDS = 10;

describe('fairness between processes', () => {
  it('a process taking the lock back to back steps aside for a waiting process within a few slices', async () => {
    const lockPath = scratch.path('busy.lock');
    const busy = scratch.spawn('back-to-back-holder.ts', [lockPath, String(BUSY_MS), String(SLICE_MS)]);
    await busy.waitForLine('started');
    await using gauge = await TimerGapGauge.start();
    await new Promise((resolve) => setTimeout(resolve, 200)); // well into its busy period

    const lock = openLock(lockPath);
    const waits: number[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      const started = performance.now();
      // Without the waiter's note and the holder's yield, a poll would have to land in the
      // microsecond gap between a release and the next acquire (odds of about 1 in 1,000 a poll).
      const held = await lock.acquire({ timeoutMs: 10_000 });
      waits.push(performance.now() - started);
      held.release();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    lock.close();
    const meanwhile = await gauge.take();
    expect(busy.lines.some((line) => line.startsWith('done')), 'the busy process was still at work').toBe(false);
    busy.kill();
    const delay = Math.max(SLICE_MS, longestGap(meanwhile.here, meanwhile.sibling));
    const measured = `waits ${waits.map((wait) => wait.toFixed(1)).join(', ')} ms; ${describeGaps({ ...meanwhile })}`;
    expect(Math.max(...waits), measured).toBeLessThan(WAIT_FACTOR * delay);
    expect(waits.reduce((sum, wait) => sum + wait, 0) / waits.length, measured).toBeLessThan(MEAN_WAIT_FACTOR * delay);
  });

  it('several waiting processes all get in while another takes the lock back to back', async () => {
    const lockPath = scratch.path('busy.lock');
    const busy = scratch.spawn('back-to-back-holder.ts', [lockPath, String(BUSY_MS), String(SLICE_MS)]);
    await busy.waitForLine('started');
    await using gauge = await TimerGapGauge.start();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const before = await gauge.take();

    // Each waiter must win 5 holds, each within its timeout: the longest waiter is let in first,
    // so none of them loses every race to the busy process or to the other waiters. The timeout
    // is generous, a multiple of this machine's scheduling delays of the moment and never under
    // 3 s: what is shown here is that nobody starves (the first test bounds the waits).
    const timeoutMs = Math.max(3_000, 10 * WAIT_FACTOR * Math.max(SLICE_MS, longestGap(before.here, before.sibling)));
    const waiters = Array.from({ length: 3 }, () => scratch.spawn('repeated-acquirer.ts', [lockPath, '5', String(timeoutMs)]));
    const outcomes = await Promise.all(
      waiters.map((waiter) => Promise.race([waiter.waitForLine('done', 120_000), waiter.waitForLine('timeout', 120_000)])),
    );
    expect(outcomes, `each wait had ${timeoutMs} ms; ${describeGaps({ ...before })}`).toEqual(['done 5', 'done 5', 'done 5']);
    expect(busy.lines.some((line) => line.startsWith('done')), 'the busy process was still at work').toBe(false);
    busy.kill();
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
