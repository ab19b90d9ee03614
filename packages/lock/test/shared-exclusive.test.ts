import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openLock, type LockHandle } from '../src/index.js';
import { useScratch } from './support/scratch.js';

interface Interval {
  pid: number;
  mode: 'shared' | 'exclusive';
  start: bigint;
  end: bigint;
}

const scratch = useScratch('memhub-lock-modes-');

function overlaps(a: Interval, b: Interval): boolean {
  return a.start < b.end && b.start < a.end;
}

describe('shared and exclusive modes between processes', () => {
  it('lets readers overlap while a writer excludes readers and writers', async () => {
    const lockPath = scratch.path('rw.lock');
    const logPath = scratch.path('intervals.jsonl');
    const recorders = [
      ...Array.from({ length: 3 }, () => ({ mode: 'shared', rounds: 6, holdMs: 40 })),
      ...Array.from({ length: 2 }, () => ({ mode: 'exclusive', rounds: 6, holdMs: 15 })),
    ].map((plan) => scratch.spawn('interval-recorder.ts', [JSON.stringify({ lockPath, logPath, ...plan })]));
    await Promise.all(recorders.map((child) => child.waitForLine('ready')));
    for (const child of recorders) child.send('go');
    await Promise.all(recorders.map((child) => child.waitForLine('done', 45_000)));

    const intervals: Interval[] = readFileSync(logPath, 'utf8')
      .trim()
      .split('\n')
      .map((line) => {
        const raw = JSON.parse(line) as { pid: number; mode: Interval['mode']; start: string; end: string };
        return { ...raw, start: BigInt(raw.start), end: BigInt(raw.end) };
      });
    expect(intervals).toHaveLength(5 * 6);

    const writers = intervals.filter((interval) => interval.mode === 'exclusive');
    for (const writer of writers) {
      const clashes = intervals.filter((other) => other !== writer && overlaps(writer, other));
      expect(clashes, `writer ${writer.pid} overlapped another holder`).toEqual([]);
    }
    const readers = intervals.filter((interval) => interval.mode === 'shared');
    const overlappingReaderPairs = readers.flatMap((a, i) =>
      readers.slice(i + 1).filter((b) => a.pid !== b.pid && overlaps(a, b)),
    );
    expect(overlappingReaderPairs.length, 'readers of different processes held it at the same time').toBeGreaterThan(0);
  });
});

describe('shared and exclusive modes within one process', () => {
  it('counts shared holders and lets an exclusive waiter in only after the last one leaves', async () => {
    const lock = openLock(scratch.path('in-process.lock'));
    const first = await lock.acquire({ mode: 'shared' });
    const second = await lock.acquire({ mode: 'shared' });
    expect(lock.status().state).toBe('shared');
    expect(lock.status().holders.filter((holder) => holder.source === 'this-thread')).toHaveLength(2);

    let writer: LockHandle | undefined;
    const writerDone = lock.acquire({ mode: 'exclusive' }).then((handle) => {
      writer = handle;
    });
    await new Promise((resolve) => setTimeout(resolve, 30));
    first.release();
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(writer, 'the writer must wait for the second reader').toBeUndefined();
    second.release();
    await writerDone;
    expect(writer?.mode).toBe('exclusive');
    expect(lock.status().state).toBe('exclusive');
    writer?.release();
    expect(lock.status().state).toBe('free');
    lock.close();
  });

  it('queues a reader behind a waiting writer, so readers cannot starve writers', async () => {
    const lock = openLock(scratch.path('fifo.lock'));
    const order: string[] = [];
    const reader = await lock.acquire({ mode: 'shared' });
    const writer = lock.acquire({ mode: 'exclusive' }).then((handle) => {
      order.push('writer');
      handle.release();
    });
    const lateReader = lock.acquire({ mode: 'shared' }).then((handle) => {
      order.push('late reader');
      handle.release();
    });
    reader.release();
    await Promise.all([writer, lateReader]);
    expect(order).toEqual(['writer', 'late reader']);
    lock.close();
  });
});
