import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lockStatus, openLock } from '@memhub/lock';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, StoreBusyError, StoreReplacedError, StoreValidationError } from '../src/index.js';
import { startStoreFixture, type FixtureProcess } from './support/processes.js';
import { restoreAnotherDatabase } from './support/restore-database.js';

let dir: string;
const children: FixtureProcess[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'memhub-write-gate-'));
});

afterEach(async () => {
  for (const child of children.splice(0)) {
    child.kill('SIGKILL');
    await child.exited();
  }
  rmSync(dir, { recursive: true, force: true });
});

function start(name: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): FixtureProcess {
  const child = startStoreFixture(name, args, env);
  children.push(child);
  return child;
}

/** The process state letter from /proc (T: stopped). */
async function waitUntilStopped(child: FixtureProcess): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'T') {
    if (Date.now() > deadline) throw new Error(`pid ${child.pid} never stopped:\n${child.stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function integrity(): unknown {
  const db = new Database(join(dir, 'memory.db'), { readonly: true });
  try {
    return db.pragma('integrity_check', { simple: true });
  } finally {
    db.close();
  }
}

/** Resolves with whether the promise settled within `ms`. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let settled = false;
  void promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await new Promise((resolve) => setTimeout(resolve, ms));
  return settled;
}

describe('the write lock file deleted while a writer holds it', () => {
  it('a writer that comes next waits for the one inside its transaction; nobody sees SQLITE_BUSY; exact counts', async () => {
    (await openStore({ dir })).close();
    // A stops itself inside its write transaction: the flock and SQLite's write lock are held.
    const a = start('scripted-writer.ts', [dir], { MEMHUB_FAULT: 'before-commit', MEMHUB_FAULT_ACTION: 'stop' });
    await a.waitForLine('opened');
    a.send('write 40 first');
    await waitUntilStopped(a);
    unlinkSync(join(dir, 'memory.db.lock')); // "a stale lock file"

    const b = await openStore({ dir, busyTimeoutMs: 60_000, lockTimeoutMs: 60_000 });
    const early = b.remember({ content: 'b waits for a', tags: ['second'] });
    // B locks the new lock file, but must not get into the database while A is inside.
    expect(await settlesWithin(early, 500)).toBe(false);
    a.kill('SIGCONT');
    await a.waitForLine('done first');
    const record = await early;
    expect(record.content).toBe('b waits for a');
    expect(statSync(join(dir, 'memory.db.lock')).isFile()).toBe(true);

    // Both go on writing at once, each through the lock file now at the path.
    a.send('write 200 third');
    const more = await Promise.all(Array.from({ length: 200 }, (_, index) => b.remember({ content: `b ${index}`, tags: ['fourth'] })));
    await a.waitForLine('done third');
    expect(a.lines.filter((line) => line.startsWith('error'))).toEqual([]);
    expect(more).toHaveLength(200);
    const stats = await b.stats();
    expect(stats.records).toBe(40 + 1 + 200 + 200);
    expect(new Set((await b.recall({ limit: 1000 })).map((found) => found.seq)).size).toBe(441);
    expect((await b.verify()).problems).toEqual([]);
    await b.close();
    a.send('close');
    await a.waitForLine('closed');
    expect(integrity()).toBe('ok');
  });

  it('a writer inside its transaction when the lock file goes takes the new file before COMMIT: the lock file is back, with it as the last holder', async () => {
    (await openStore({ dir })).close();
    const a = start('scripted-writer.ts', [dir], { MEMHUB_FAULT: 'before-commit', MEMHUB_FAULT_ACTION: 'stop' });
    await a.waitForLine('opened');
    a.send('write 10 first');
    await waitUntilStopped(a);
    unlinkSync(join(dir, 'memory.db.lock'));
    a.kill('SIGCONT');
    await a.waitForLine('done first');
    expect(statSync(join(dir, 'memory.db.lock')).isFile()).toBe(true);
    expect(lockStatus(join(dir, 'memory.db.lock')).lastHolder?.pid).toBe(a.pid);
    a.send('close');
    await a.waitForLine('closed');
  });

  it('a writer frozen before BEGIN with its lock file deleted: the other writes meanwhile, and the frozen one waits its turn on the new file', async () => {
    (await openStore({ dir })).close();
    const a = start('scripted-writer.ts', [dir], { MEMHUB_FAULT: 'before-begin', MEMHUB_FAULT_ACTION: 'stop' });
    await a.waitForLine('opened');
    a.send('write 30 first');
    await waitUntilStopped(a);
    unlinkSync(join(dir, 'memory.db.lock'));
    const b = await openStore({ dir });
    // A holds only a flock on a file nobody can reach: B is not held up at all.
    const written = await Promise.all(Array.from({ length: 30 }, (_, index) => b.remember({ content: `b ${index}` })));
    expect(written).toHaveLength(30);
    // B holds the new lock file while A resumes: A must confirm its hold, find B in, and wait.
    const lock = openLock(join(dir, 'memory.db.lock'));
    const held = await lock.acquire();
    a.kill('SIGCONT');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(a.lines.some((line) => line.startsWith('done first'))).toBe(false);
    held.release();
    lock.close();
    await a.waitForLine('done first');
    expect((await b.stats()).records).toBe(60);
    expect((await b.verify()).problems).toEqual([]);
    await b.close();
    expect(integrity()).toBe('ok');
  });
});

describe('the store folder replaced under an open store', () => {
  it('the next write fails with StoreReplacedError, and so does every later one; the new store holds only what was written to it', async () => {
    const a = await openStore({ dir });
    const before = await a.remember({ content: 'written before the folder went' });
    expect(before.seq).toBe(1);
    // Another program deletes the folder and a process creates a new store in its place.
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
    const b = start('scripted-writer.ts', [dir]);
    await b.waitForLine('opened');
    b.send('write 5 fresh');
    await b.waitForLine('done fresh');

    await expect(a.remember({ content: 'would go to the deleted file' })).rejects.toBeInstanceOf(StoreReplacedError);
    await expect(a.rememberMany([{ content: 'so would this' }])).rejects.toBeInstanceOf(StoreReplacedError);
    await expect(a.get(before.id)).rejects.toBeInstanceOf(StoreReplacedError);
    await a.close();

    const reopened = await openStore({ dir });
    expect((await reopened.stats()).records).toBe(5);
    expect(await reopened.recall({ query: 'deleted' })).toEqual([]);
    const report = await reopened.verify();
    expect(report.problems).toEqual([]);
    expect(report.layers.map((layer) => layer.records)).toEqual([5]);
    await reopened.close();
    b.send('close');
    await b.waitForLine('closed');
  });

  it('lines still owed when the folder goes are not appended into the new folder, nor are its layer files opened or locked', async () => {
    const a = await openStore({ dir });
    await a.remember({ content: 'appended before the folder went' });
    await a.flush();
    // Acknowledged, its line owed to the mirror (appended within MIRROR_AFTER_MS, or on flush).
    await a.remember({ content: 'owed when the folder went' });
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
    const b = start('scripted-writer.ts', [dir, JSON.stringify({ mirror: false })]);
    await b.waitForLine('opened');
    // The owed line has nowhere to go: flush() says so, and close() leaves it.
    await expect(a.flush()).rejects.toBeInstanceOf(StoreReplacedError);
    await a.close();
    // The new store keeps no mirror: any layer file in its folder would be the old store's doing.
    expect(existsSync(join(dir, 'layers')) ? readdirSync(join(dir, 'layers')) : []).toEqual([]);
    b.send('close');
    await b.waitForLine('closed');
  });

  it('memory.db alone replaced by another database: the write is refused, not sent to the old file', async () => {
    const a = await openStore({ dir, mirror: false });
    await a.remember({ content: 'first' });
    // A copy of another store's database put in its place (a restore from a backup, say).
    await restoreAnotherDatabase(dir, 'from another store');
    const failure = await a.remember({ content: 'second' }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(StoreReplacedError);
    expect((failure as Error).message).toContain(join(dir, 'memory.db'));
    await a.close();
    const reopened = await openStore({ dir });
    expect((await reopened.recall()).map((record) => record.content)).toEqual(['from another store']);
    await reopened.close();
  });
});

describe('a program outside memhub holding SQLite\'s write lock', () => {
  /** The largest gap between 5 ms timer ticks while `during` runs. */
  async function timerGaps(during: Promise<unknown>): Promise<number> {
    let last = performance.now();
    let maxGap = 0;
    const ticker = setInterval(() => {
      const now = performance.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
    }, 5);
    try {
      await during;
    } finally {
      clearInterval(ticker);
    }
    return Math.max(maxGap, performance.now() - last);
  }

  it('writers wait without blocking the event loop, then get a StoreBusyError naming the process; reads go on', async () => {
    const store = await openStore({ dir, busyTimeoutMs: 1_500 });
    await store.remember({ content: 'before the foreign writer' });
    const foreign = start('foreign-writer.ts', [join(dir, 'memory.db')]);
    await foreign.waitForLine('held');

    // The control: this process's timer gaps over the same time with nothing to wait for.
    const control = await timerGaps(new Promise((resolve) => setTimeout(resolve, 1_500)));
    const failed = store.remember({ content: 'cannot be written' }).catch((error: unknown) => error);
    const waiting = await timerGaps(failed);
    const failure = await failed;
    expect(failure).toBeInstanceOf(StoreBusyError);
    expect((failure as StoreBusyError).holder?.pid).toBe(foreign.pid);
    expect((failure as StoreBusyError).waitedMs).toBeGreaterThanOrEqual(1_500);
    expect((failure as Error).message).toContain(String(foreign.pid));
    // SQLite's busy handler would block the whole 1.5 s in one call; a slice of it is allowed.
    expect(waiting, `timer gap while waiting (control: ${control.toFixed(1)} ms)`).toBeLessThan(Math.max(4 * control, 1_500 / 4));
    // Reads are not held up by a writer (WAL).
    expect(await store.recall({ query: 'foreign' })).toHaveLength(1);

    foreign.send('release');
    await foreign.waitForLine('released');
    expect((await store.remember({ content: 'after the foreign writer' })).seq).toBe(2);
    expect((await store.stats()).records).toBe(2);
    await store.close();
    expect(integrity()).toBe('ok');
  });

  it('a write waits through a foreign transaction shorter than busyTimeoutMs and then succeeds', async () => {
    const store = await openStore({ dir, busyTimeoutMs: 30_000 });
    const foreign = start('foreign-writer.ts', [join(dir, 'memory.db')]);
    await foreign.waitForLine('held');
    const write = store.remember({ content: 'waits for the foreign writer' });
    expect(await settlesWithin(write, 400)).toBe(false);
    foreign.send('release');
    expect((await write).content).toBe('waits for the foreign writer');
    await store.close();
  });
});

describe('numeric options', () => {
  it.each([
    ['busyTimeoutMs', 2 ** 31],
    ['lockTimeoutMs', 2 ** 31],
    ['recallFlushIntervalMs', 2 ** 31],
    ['recallFlushPending', 1.5],
    ['recallFlushPending', 2 ** 53],
    ['maxContentBytes', 1.5],
    ['maxContentBytes', 2 ** 40],
    ['walCheckpointBytes', 0.5],
    ['walCheckpointBytes', -1],
  ])('%s = %s is refused, naming the option, and nothing is created', async (option, value) => {
    const target = join(dir, 'not-created');
    const failure = await openStore({ dir: target, [option]: value }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(StoreValidationError);
    expect((failure as StoreValidationError).field).toBe(option);
    expect(statSync(target, { throwIfNoEntry: false })).toBeUndefined();
  });
});
