import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '../src/index.js';

/**
 * `lockStarvationMs` is the store's write lock's starvation threshold (@memhub/lock's
 * `starvationMs`, docs/DESIGN.md 3.4): a write that finds the lock free takes it, unless another
 * process's waiter has waited longer than that. The waiter here is a note in memory.db.lock, in
 * the lock's own format (`{"s": waiting since, "r": refreshed, "p": pid, "t": thread}`, 64 bytes
 * at offset 512), kept fresh by this test, of a waiter that has waited 30 s and never takes the
 * lock: a write that leaves it the lock waits for nothing.
 */
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'memhub-lock-starvation-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Keeps a note in the store's write lock file of another process's thread waiting since `since`; returns its stop. */
function keepWaiterNote(since: number): () => void {
  const fd = openSync(join(dir, 'memory.db.lock'), 'r+');
  const write = () => {
    const note = Buffer.alloc(64, 0x20);
    // Another process's: the parent of this one, alive for as long as the test runs.
    note.write(JSON.stringify({ s: since, r: Date.now(), p: process.ppid, t: 0 }), 0, 'utf8');
    note[63] = 0x0a;
    writeSync(fd, note, 0, note.length, 512);
  };
  write();
  const refresher = setInterval(write, 5);
  return () => {
    clearInterval(refresher);
    closeSync(fd);
  };
}

describe('lockStarvationMs', () => {
  it('sets how long another process must have waited for the write lock before a write at hand leaves it the free lock', async () => {
    // The store and its lock file exist before the note is written.
    await (await openStore({ dir })).close();
    const stop = keepWaiterNote(Date.now() - 30_000);
    try {
      // A minute of unfairness allowed: the waiter of 30 s is passed by.
      const patient = await openStore({ dir, lockStarvationMs: 60_000, lockTimeoutMs: 5_000 });
      await expect(patient.remember({ content: 'past a waiter of 30 s' })).resolves.toMatchObject({ content: 'past a waiter of 30 s' });
      await patient.close();

      // The default (20 ms): the write leaves the lock to the waiter and times out, not written.
      // A try proves it only while the note stayed fresh (refreshed within 100 ms); a test process
      // that was descheduled longer may find it stale and take the lock, so it tries again.
      const fair = await openStore({ dir, lockTimeoutMs: 300 });
      let keptOut: unknown;
      for (let attempt = 0; attempt < 5 && keptOut === undefined; attempt += 1) {
        keptOut = await fair.remember({ content: `left to the waiter ${attempt}` }).then(
          () => undefined,
          (error: unknown) => error,
        );
      }
      expect(keptOut).toMatchObject({ code: 'ERR_LOCK_TIMEOUT', written: false });
      await fair.close();
    } finally {
      stop();
    }
  });
});
