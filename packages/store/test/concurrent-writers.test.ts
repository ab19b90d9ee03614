import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CURRENT_SCHEMA_VERSION } from '../src/engine/sqlite/sqlite-schema.js';
import { openStore } from '../src/index.js';
import { startStoreFixture, type FixtureProcess } from './support/processes.js';
import { asStored } from './support/stored-record.js';

let dir: string;
const children: FixtureProcess[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'memhub-store-writers-'));
});

afterEach(() => {
  for (const child of children.splice(0)) child.kill();
  rmSync(dir, { recursive: true, force: true });
});

/** Starts the writers, releases them at the same moment, and waits until all are done. */
async function runWriters(writers: { count: number; label: string; inFlight?: number; keyMode?: string }[]) {
  const started = writers.map(({ count, label, inFlight = 1, keyMode = '' }) => {
    const child = startStoreFixture('store-writer.ts', [dir, String(count), label, String(inFlight), keyMode]);
    children.push(child);
    return child;
  });
  await Promise.all(started.map((child) => child.waitForLine('ready')));
  for (const child of started) child.send('go');
  const results = await Promise.all(
    started.map((child) =>
      Promise.race([child.waitForLine('done', 120_000), child.waitForLine('error', 120_000)]),
    ),
  );
  expect(results, started.map((child) => child.stderr).join('\n')).toEqual(writers.map(({ count }) => `done ${count}`));
}

/** Reads the database file directly with a separate connection, as an outside checker would. */
function inspect(query: string, file = 'memory.db'): unknown[] {
  const db = new Database(join(dir, file), { readonly: true });
  try {
    return db.prepare(query).all();
  } finally {
    db.close();
  }
}

describe('remember() from many processes at once', () => {
  it('8 processes x 500 remembers on one store: exactly 4000 records, distinct ids and seqs, integrity ok', async () => {
    await runWriters(Array.from({ length: 8 }, (_, index) => ({ count: 500, label: `w${index}`, inFlight: 4 })));
    expect(inspect('SELECT count(*) AS n, count(DISTINCT id) AS ids, count(DISTINCT seq) AS seqs FROM records')).toEqual([
      { n: 4000, ids: 4000, seqs: 4000 },
    ]);
    const perWriter = inspect("SELECT substr(content, 1, instr(content, ' ') - 1) AS writer, count(*) AS n FROM records GROUP BY writer") as {
      writer: string;
      n: number;
    }[];
    expect(perWriter).toHaveLength(8);
    for (const { n } of perWriter) expect(n).toBe(500);
    expect(inspect('PRAGMA integrity_check')).toEqual([{ integrity_check: 'ok' }]);
    // The search index follows in batches; once brought up to date, every record has its tag row.
    const store = await openStore({ dir });
    await store.flush();
    expect((await store.stats()).search).toMatchObject({ unindexedRecords: 0 });
    await store.close();
    expect(inspect('SELECT count(*) AS n FROM record_tags', 'memory.search.db')).toEqual([{ n: 8000 }]);
  });

  it('8 processes opening a brand-new store at the same instant create one schema, without error', async () => {
    await runWriters(Array.from({ length: 8 }, (_, index) => ({ count: 1, label: `opener${index}` })));
    expect(inspect('PRAGMA user_version')).toEqual([{ user_version: CURRENT_SCHEMA_VERSION }]);
    expect(inspect('PRAGMA journal_mode')).toEqual([{ journal_mode: 'wal' }]);
    expect(inspect("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'records'")).toEqual([{ n: 1 }]);
    expect(inspect('SELECT count(*) AS n FROM records')).toEqual([{ n: 8 }]);
  });

  it('the same idempotency key from 4 processes at once gives one record', async () => {
    await runWriters(Array.from({ length: 4 }, (_, index) => ({ count: 5, label: `keyed${index}`, keyMode: 'shared-key' })));
    expect(inspect("SELECT count(*) AS n FROM records WHERE idempotency_key = 'the-one-key'")).toEqual([{ n: 1 }]);
    expect(inspect('SELECT count(*) AS n FROM records')).toEqual([{ n: 1 }]);
  });
});

describe('group commit in one process', () => {
  it('gathers concurrent remembers into shared transactions and returns each caller its own record', async () => {
    const store = await openStore({ dir });
    const records = await Promise.all(
      Array.from({ length: 200 }, (_, index) => store.remember({ content: `note ${index}`, tags: ['Group', ' group ', 'x'] })),
    );
    expect(records.map((record) => record.content)).toEqual(Array.from({ length: 200 }, (_, index) => `note ${index}`));
    expect(new Set(records.map((record) => record.seq)).size).toBe(200);
    expect(records[0]?.tags).toEqual(['Group', 'group', 'x']);
    expect(await store.get(records[17]!.id)).toEqual(asStored(records[17]!));
    expect((await store.stats()).records).toBe(200);
    await store.close();
  });
});
