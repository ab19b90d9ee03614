import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLock, type FileLock } from '@memhub/lock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GroupCommit, type BatchCommit } from '../src/group-commit.js';

/** A batch commit as an engine writes one: under the lock, the commit itself synchronous. */
function underLock(commit: (inputs: readonly number[]) => number[]): BatchCommit<number, number> {
  return async (inputs, afterCommit) => {
    const held = await lock.acquire({ timeoutMs: 1_000 });
    let outputs: number[];
    try {
      outputs = commit(inputs);
    } finally {
      held.release();
    }
    afterCommit();
    return outputs;
  };
}

let dir: string;
let lock: FileLock;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'memhub-store-group-'));
  lock = openLock(join(dir, 'memory.db.lock'));
});

afterEach(() => {
  lock.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('group commit', () => {
  it('writes a call submitted by a caller resuming from the last batch (no call is left in the queue)', async () => {
    const batches: number[][] = [];
    const group = new GroupCommit(
      underLock((inputs) => {
        batches.push([...inputs]);
        return inputs.map((input) => input * 10);
      }),
    );
    // Each caller, as soon as its write resolves, submits the next one: exactly the moment when
    // the drain has found the queue empty but has not yet marked itself finished.
    let chained = 0;
    const next = async (value: number): Promise<void> => {
      const [result] = await group.submit([value]);
      expect(result).toBe(value * 10);
      chained += 1;
      if (value < 50) await next(value + 1);
    };
    const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('a submitted call was never written')), 5_000));
    await Promise.race([next(1), timeout]);
    expect(chained).toBe(50);
    expect(batches.flat()).toEqual(Array.from({ length: 50 }, (_, index) => index + 1));
  });

  it('lets timers and I/O run between batches, also when a caller awaits write after write on a free lock', async () => {
    const group = new GroupCommit(underLock((inputs) => [...inputs]));
    let ticks = 0;
    const ticker = setInterval(() => (ticks += 1), 1);
    const started = performance.now();
    while (performance.now() - started < 50) await group.submit([1]);
    clearInterval(ticker);
    expect(ticks, 'the timer never ran: the loop starved the event loop').toBeGreaterThan(5);
  });

  it('gathers the calls of one tick into one batch, and fails every call of a batch whose commit throws', async () => {
    let fail = false;
    const batches: number[][] = [];
    const group = new GroupCommit(
      underLock((inputs) => {
        if (fail) throw new Error('disk full');
        batches.push([...inputs]);
        return [...inputs];
      }),
    );
    await Promise.all([group.submit([1]), group.submit([2, 3]), group.submit([4])]);
    expect(batches).toEqual([[1, 2, 3, 4]]);
    fail = true;
    const results = await Promise.allSettled([group.submit([5]), group.submit([6])]);
    expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    expect(await group.submit([7])).toEqual([7]);
    expect(lock.status().state).toBe('free');
  });
});
