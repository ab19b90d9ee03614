import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '../src/index.js';
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

describe('a writer killed with SIGKILL', () => {
  it('loses nothing it acknowledged; the store opens, takes writes at once and checks ok', async () => {
    const writer = startStoreFixture('acknowledging-writer.ts', [dir]);
    children.push(writer);
    await writer.waitForLine('ready');
    while (writer.lines.filter((line) => line.startsWith('ack ')).length < 400) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    writer.kill('SIGKILL');
    await writer.exited();
    const acknowledged = writer.lines.filter((line) => line.startsWith('ack ')).map((line) => line.slice(4));

    const started = performance.now();
    const store = await openStore({ dir, lockTimeoutMs: 5_000 });
    const after = await store.remember({ content: 'written after the crash' });
    const reopenMs = performance.now() - started;
    for (const id of acknowledged) expect(await store.get(id), `acknowledged record ${id}`).not.toBeNull();
    expect((await store.stats()).records).toBeGreaterThanOrEqual(acknowledged.length + 1);
    expect(after.seq).toBeGreaterThan(0);
    await store.close();
    expect(integrity()).toBe('ok');
    expect(reopenMs, 'the dead writer must not hold anything up').toBeLessThan(2_000);
  });
});

describe('waiting for the write lock', () => {
  it('keeps the event loop running: timer gaps stay under 50 ms while another process holds the lock for 3 s', async () => {
    const store = await openStore({ dir });
    const holder = startLockFixture('hold-until-told.ts', [join(dir, 'memory.db.lock'), 'test holder']);
    children.push(holder);
    await holder.waitForLine('held');
    const heldAt = performance.now();

    let last = performance.now();
    let maxGap = 0;
    const ticker = setInterval(() => {
      const now = performance.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
    }, 5);
    const write = store.remember({ content: 'waits for the lock' });
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    holder.send('release');
    const record = await write;
    clearInterval(ticker);
    expect(performance.now() - heldAt).toBeGreaterThanOrEqual(3_000);
    expect(record.content).toBe('waits for the lock');
    expect(maxGap).toBeLessThan(50);
    await store.close();
  });
});
