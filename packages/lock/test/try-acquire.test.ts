import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { openLock } from '../src/index.js';
import { useScratch } from './support/scratch.js';

const scratch = useScratch('memhub-lock-try-');

async function waitUntilStopped(pid: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'T') {
    if (Date.now() > deadline) throw new Error(`pid ${pid} never stopped`);
    await sleep(1);
  }
}

describe('tryAcquire', () => {
  it('takes a free lock at once, and with yieldToStarved leaves it to a waiter of another process that has waited past the fairness threshold', async () => {
    const path = scratch.path('try.lock');
    const lock = openLock(path);
    const free = lock.tryAcquire({ yieldToStarved: true });
    expect(free).not.toBeNull();
    // A process that starts waiting while this one holds the lock, and waits well past 20 ms: its
    // waiter's note (bytes 512-575 of the lock file) is there before this one lets go.
    const waiter = scratch.spawn('repeated-acquirer.ts', [path, '1', '60000']);
    await waiter.waitForLine('started');
    // Released right when the note is fresh (refreshed in the last 40 ms) and says it has waited
    // over 30 ms; then the free lock must be left to the waiter. A note counts as a live waiter for
    // 100 ms after its refresh, so if this process was not scheduled for that long between reading
    // the note and trying the lock (a busy machine), the waiter may rightly count as gone: such a
    // try proves nothing, and is made again with the lock it took.
    let held = free;
    const deadline = Date.now() + 30_000;
    for (;;) {
      const note = /\{.*\}/.exec(readFileSync(path).subarray(512, 576).toString('latin1'))?.[0];
      const { s: since = 0, r: refreshed = 0 } = note === undefined ? {} : (JSON.parse(note) as { s?: number; r?: number });
      if (Date.now() > deadline) throw new Error(`the waiter never noted itself in time: ${note ?? 'no note'}`);
      if (!(Date.now() - refreshed < 40 && Date.now() - since > 30)) {
        await new Promise((resolve) => setTimeout(resolve, 2));
        continue;
      }
      held?.release();
      const taken = lock.tryAcquire({ yieldToStarved: true });
      const triedAt = Date.now();
      if (taken === null) break;
      // The waiter may have taken and released the lock in the moment between the release above
      // and this try (a busy machine can deschedule this process there): its note is then gone,
      // its wait over, and the free lock was rightly taken.
      const noteAfter = /\{.*\}/.exec(readFileSync(path).subarray(512, 576).toString('latin1'))?.[0];
      if (noteAfter === undefined || (JSON.parse(noteAfter) as { s?: number }).s !== since) {
        taken.release();
        break;
      }
      // The note can only have been refreshed since it was read: if even the read one was under
      // 100 ms old when the try ended, the waiter was live at the try, and taking the lock is a bug.
      expect(triedAt - refreshed, 'took the lock while a starved waiter was noted').toBeGreaterThanOrEqual(100);
      held = taken;
    }
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

describe('starvationMs', () => {
  it('is checked when the lock is opened', () => {
    expect(() => openLock(scratch.path('s.lock'), { starvationMs: -1 })).toThrow(/starvationMs/);
    expect(() => openLock(scratch.path('s.lock'), { starvationMs: Number.NaN })).toThrow(/starvationMs/);
  });

  it('sets how long a waiter of another process must have waited before a caller at hand leaves it the free lock', async () => {
    const path = scratch.path('patient.lock');
    const patient = openLock(path, { starvationMs: 60_000 });
    let held = patient.tryAcquire();
    expect(held).not.toBeNull();
    const waiter = scratch.spawn('repeated-acquirer.ts', [path, '1', '60000']);
    await waiter.waitForLine('started');
    // The waiter is stopped while its note is fresh and says it has waited past the default
    // threshold (20 ms), far less than this lock's minute; stopped, it cannot take the lock this
    // process frees, so a try that finds it taken is a yield. A note counts as a live waiter for
    // 100 ms after its refresh: a try made later (this process descheduled that long) proves
    // nothing, and is made again.
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (Date.now() > deadline) throw new Error('never tried the lock while the waiter\'s note was live');
      const note = /\{.*\}/.exec(readFileSync(path).subarray(512, 576).toString('latin1'))?.[0];
      const { s: since = 0, r: refreshed = 0 } = note === undefined ? {} : (JSON.parse(note) as { s?: number; r?: number });
      if (!(Date.now() - refreshed < 40 && Date.now() - since > 30)) {
        await new Promise((resolve) => setTimeout(resolve, 2));
        continue;
      }
      waiter.kill('SIGSTOP');
      await waitUntilStopped(waiter.pid);
      held?.release();
      const again = patient.tryAcquire({ yieldToStarved: true });
      const triedAt = Date.now();
      expect(again, 'left the free lock to a waiter that had waited far less than starvationMs').not.toBeNull();
      held = again;
      waiter.kill('SIGCONT');
      if (triedAt - refreshed < 100) break;
    }
    held?.release();
    await waiter.waitForLine('done 1');
    patient.close();
  });
});
