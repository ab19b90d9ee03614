import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '../src/index.js';
import { startStoreFixture, type FixtureProcess } from './support/processes.js';

/**
 * DESIGN rule 1: closing any descriptor on memory.db, -wal or -shm cancels every POSIX lock
 * SQLite holds on it in that process, and other processes then write or reset the WAL under a
 * live writer. memhub's own code must never open (or delete, truncate, rename, copy) those
 * files through `fs`; only SQLite touches them. This test wraps every `fs` entry point that
 * opens or replaces a file, runs every store path that touches files in a process with live
 * connections while other processes write, and checks what was touched.
 */
const DATABASE_FILE = /memory\.db(-wal|-shm)?$/;

type AnyFunction = (...args: unknown[]) => unknown;
const wrapped: { target: Record<string, unknown>; name: string; original: unknown }[] = [];
let touched: string[] = [];

function watch(target: object, names: readonly string[]): void {
  const record = target as Record<string, unknown>;
  for (const name of names) {
    const original = record[name];
    if (typeof original !== 'function') continue;
    wrapped.push({ target: record, name, original });
    record[name] = function (this: unknown, ...args: unknown[]) {
      for (const arg of args.slice(0, 2)) {
        if (typeof arg === 'string' || arg instanceof URL || Buffer.isBuffer(arg)) touched.push(String(arg));
      }
      return (original as AnyFunction).apply(this, args);
    };
  }
}

let dir: string;
const children: FixtureProcess[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(join(tmpdir(), 'memhub-store-rule1-'));
  touched = [];
  const opening = ['open', 'openSync', 'readFile', 'readFileSync', 'writeFile', 'writeFileSync', 'appendFile', 'appendFileSync'];
  const replacing = ['truncate', 'truncateSync', 'rename', 'renameSync', 'unlink', 'unlinkSync', 'rm', 'rmSync', 'copyFile', 'copyFileSync'];
  watch(fs, [...opening, ...replacing, 'createReadStream', 'createWriteStream', 'openAsBlob']);
  watch(fs.promises, ['open', 'readFile', 'writeFile', 'appendFile', 'truncate', 'rename', 'unlink', 'rm', 'copyFile']);
  syncBuiltinESMExports();
});

afterEach(() => {
  for (const { target, name, original } of wrapped.splice(0)) target[name] = original;
  syncBuiltinESMExports();
  for (const child of children.splice(0)) child.kill();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('DESIGN rule 1: memhub never opens a descriptor on the database files', () => {
  it('while 4 processes write 10,000 records, open, stats, recall, verify, repair, checkpoints, flush and close leave them alone', async () => {
    const live = await openStore({ dir, walCheckpointBytes: 256 * 1024 });
    const writers = Array.from({ length: 4 }, (_, index) => {
      const child = startStoreFixture('store-writer.ts', [dir, '2500', `rule1w${index}`, '8']);
      children.push(child);
      return child;
    });
    await Promise.all(writers.map((child) => child.waitForLine('ready')));
    for (const child of writers) child.send('go');
    const finished = Promise.all(writers.map((child) => Promise.race([child.waitForLine('done', 120_000), child.waitForLine('error', 120_000)])));
    let done = false;
    void finished.then(() => (done = true));

    let cycles = 0;
    let checkpointRuns = 0;
    while (!done || cycles < 3) {
      const store = await openStore({ dir, walCheckpointBytes: 64 * 1024 });
      await store.rememberMany(Array.from({ length: 20 }, (_, index) => ({ content: `observer ${cycles}.${index} `.repeat(20) })));
      await store.recall({ query: 'observer', limit: 5 });
      const { checkpoints } = await store.stats();
      checkpointRuns += checkpoints!.completed + checkpoints!.starved;
      await live.recall({ tags: ['rule1w0'], limit: 5 });
      await live.stats();
      if (cycles < 3) {
        // verify and repair read the database and rewrite the layer mirrors, with writers busy.
        // A consistent view while others write: each layer file is compared in one snapshot of the database.
        expect((await store.verify()).problems).toEqual([]);
        if (cycles === 1) await store.repair();
        await store.readFromMirror('application', 'no-such-id');
      }
      await store.flush();
      await store.close();
      cycles += 1;
    }
    expect(await finished).toEqual(['done 2500', 'done 2500', 'done 2500', 'done 2500']);
    await live.close();

    const onDatabase = touched.filter((path) => DATABASE_FILE.test(path));
    expect(onDatabase).toEqual([]);
    expect(touched.length, 'the wrappers saw the lock files, so they were in place').toBeGreaterThan(0);
    const stillOpen = fs
      .readdirSync('/proc/self/fd')
      .map((fd) => {
        try {
          return fs.readlinkSync(`/proc/self/fd/${fd}`);
        } catch {
          return '';
        }
      })
      .filter((target) => target.startsWith(dir) && DATABASE_FILE.test(target));
    expect(stillOpen, 'every connection was closed').toEqual([]);

    const db = new Database(join(dir, 'memory.db'), { readonly: true });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(db.prepare("SELECT count(*) FROM records WHERE content LIKE 'rule1w%'").pluck().get()).toBe(10_000);
    db.close();
    expect(cycles).toBeGreaterThanOrEqual(3);
    expect(checkpointRuns, 'the checkpoint path ran in this process').toBeGreaterThan(0);
  });
});
