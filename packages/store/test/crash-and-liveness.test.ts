import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type MemoryRecord, openStore, type Store } from '../src/index.js';
import { describeGaps, longestGap, TimerGapGauge } from '../../lock/test/support/timer-gaps.js';
import { startLockFixture, startStoreFixture, startStoreWorker, type FixtureProcess } from './support/processes.js';

let dir: string;
const children: FixtureProcess[] = [];
const workers: Worker[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'memhub-store-crash-'));
});

afterEach(async () => {
  for (const child of children.splice(0)) child.kill();
  await Promise.all(workers.splice(0).map((worker) => worker.terminate()));
  rmSync(dir, { recursive: true, force: true });
});

function integrity(): unknown {
  const db = new Database(join(dir, 'memory.db'), { readonly: true });
  try {
    return db.pragma('integrity_check', { simple: true });
  } finally {
    db.close();
  }
}

describe('worker threads', () => {
  it('4 worker threads x 500 remembers on one store: exactly 2000 records, distinct seqs, integrity ok', async () => {
    const started = Array.from({ length: 4 }, (_, index) => {
      const worker = startStoreWorker('store-writer-worker.ts', { dir, count: 500, label: `thread${index}` });
      workers.push(worker);
      return worker;
    });
    await Promise.all(started.map((worker) => once(worker, 'message')));
    const store = await openStore({ dir });
    const stats = await store.stats();
    expect(stats.records).toBe(2000);
    for (let index = 0; index < 4; index += 1) expect(await store.recall({ tags: [`thread${index}`], limit: 1000 })).toHaveLength(500);
    await store.close();
    expect(integrity()).toBe('ok');
  });
});

/** Opens the store, writes one record, and says how long that took. */
async function timedReopen(content: string): Promise<{ ms: number; store: Store; record: MemoryRecord }> {
  const started = performance.now();
  const store = await openStore({ dir, lockTimeoutMs: 5_000 });
  const record = await store.remember({ content });
  return { ms: performance.now() - started, store, record };
}

/**
 * The reopen after a crash may take this many times a clean reopen, or the longest timer gap of
 * a sibling process meanwhile (a busy machine slows both).
 */
const REOPEN_FACTOR = 20;

describe('a writer killed with SIGKILL', () => {
  it('loses nothing it acknowledged; the store opens, takes writes at once and checks ok', async () => {
    // Opened and closed once first, so that the reopens compared below are alike (the store exists, the code is warm).
    const created = await timedReopen('written before the writer starts');
    await created.store.close();
    const writer = startStoreFixture('acknowledging-writer.ts', [dir]);
    children.push(writer);
    await writer.waitForLine('ready');
    while (writer.lines.filter((line) => line.startsWith('ack ')).length < 400) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    writer.kill('SIGKILL');
    await writer.exited();
    const acknowledged = writer.lines.filter((line) => line.startsWith('ack ')).map((line) => line.slice(4));

    await using gauge = await TimerGapGauge.start();
    const afterCrash = await timedReopen('written after the crash');
    const meanwhile = await gauge.take();
    const { store, record: after } = afterCrash;
    for (const id of acknowledged) expect(await store.get(id), `acknowledged record ${id}`).not.toBeNull();
    expect((await store.stats()).records).toBeGreaterThanOrEqual(acknowledged.length + 2);
    expect(after.seq).toBeGreaterThan(0);
    await store.close();
    expect(integrity()).toBe('ok');

    // The control: the same reopen and write with no crash before it, in the same process, now.
    const clean = await timedReopen('written after a clean close');
    await clean.store.close();
    // Not this process's own gaps: a reopen that blocked would widen them itself.
    const allowed = REOPEN_FACTOR * Math.max(clean.ms, longestGap(meanwhile.sibling));
    const measured = `reopen after the crash ${afterCrash.ms.toFixed(0)} ms, after a clean close ${clean.ms.toFixed(0)} ms; ${describeGaps({ sibling: meanwhile.sibling })}`;
    expect(afterCrash.ms, `the dead writer held the reopen up: ${measured}`).toBeLessThan(allowed);
  });
});

/** How long the other process holds the write lock while this one waits to write. */
const HOLD_MS = 2_000;
/** The window of the control: the same process, not waiting for anything. */
const CONTROL_MS = 1_000;
/**
 * A timer gap while waiting may be this many times the longest gap of the controls: the machine's
 * hiccups show in them too, a blocked event loop (a blocking flock, a busy handler) does not.
 */
const GAP_FACTOR = 20;

describe('waiting for the write lock', () => {
  it('keeps the event loop running while another process holds the lock: its timer gaps stay those of a process that is not waiting', async () => {
    const store = await openStore({ dir });
    const holder = startLockFixture('hold-until-told.ts', [join(dir, 'memory.db.lock'), 'test holder']);
    children.push(holder);
    await holder.waitForLine('held');

    await using gauge = await TimerGapGauge.start();
    await sleep(CONTROL_MS);
    const control = await gauge.take();
    let written = false;
    const write = store.remember({ content: 'waits for the lock' }).then((record) => {
      written = true;
      return record;
    });
    await sleep(HOLD_MS);
    const waiting = await gauge.take();
    expect(written, 'the write went ahead while another process held the lock').toBe(false);
    holder.send('release');
    const record = await write;
    expect(record.content).toBe('waits for the lock');
    await store.close();

    const gaps = describeGaps({ waiting: waiting.here, 'sibling meanwhile': waiting.sibling, 'this process before': control.here, 'sibling before': control.sibling });
    // A blocked event loop shows as one gap as long as the block; a stall of the whole machine
    // shows in the sibling as well.
    const allowed = GAP_FACTOR * longestGap(control.here, control.sibling, waiting.sibling);
    expect(waiting.here.maxGapMs, gaps).toBeLessThan(allowed);
    // And the timer ran all along, as often as in the sibling give or take a factor: a loop
    // blocked for the whole hold, or in slices (a busy handler retrying), ticks far less often.
    expect(waiting.here.ticks / waiting.here.windowMs, gaps).toBeGreaterThan(waiting.sibling.ticks / waiting.sibling.windowMs / 4);
  });
});
