import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStatements } from '../src/engine/sqlite/sqlite-statements.js';
import { HANDED_OUTCOME_KEEP_MS, HANDED_OUTCOME_PRUNE_LIMIT, SqliteWriter, type WriterBatch } from '../src/engine/sqlite/sqlite-writer.js';
import { openStore } from '../src/index.js';
import type { WriteOperation } from '../src/write-operation.js';

/**
 * The outcome rows of handed batches (sqlite-shared-commit.ts) are kept an hour, then pruned by
 * the transactions that carry handed batches. A leader that hands thousands of batches a second
 * has a minute of them to prune at a time: here they go a piece per transaction, never in one long
 * DELETE that every writer would wait for.
 */
let dir: string;
let db: Database.Database;
let writer: SqliteWriter;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'memhub-handed-outcomes-'));
  // The schema, as a store makes it; then this test is the only connection.
  await (await openStore({ dir })).close();
  db = new Database(join(dir, 'memory.db'), { fileMustExist: true });
  writer = new SqliteWriter(db, new SqliteStatements(db), { appliedThrough: () => 0 });
});

afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Outcome rows as a leader leaves them: `count` of them, committed at `committedAt`. */
function addOutcomes(prefix: string, count: number, committedAt: number): void {
  const insert = db.prepare('INSERT INTO handed_batches (batch_id, results, error, committed_at) VALUES (?, ?, NULL, ?)');
  db.transaction(() => {
    for (let index = 0; index < count; index += 1) insert.run(`${prefix}-${index}`, '[false]', committedAt);
  })();
}

function outcomesBefore(time: number): number {
  return (db.prepare('SELECT count(*) AS n FROM handed_batches WHERE committed_at < ?').get(time) as { n: number }).n;
}

/** One transaction, as a leader's round runs it: one batch (a forget of no record), handed over or the leader's own. */
function round(handoffId: string | undefined): void {
  const operations: WriteOperation[] = [{ kind: 'forget', id: 'no-such-record' }];
  const batch: WriterBatch = { operations, prepared: writer.prepare(operations), ...(handoffId === undefined ? {} : { handoffId }) };
  const applied = writer.applyBatches([batch]);
  expect(applied.outcomes).toEqual([{ results: [false] }]);
}

describe('outcomes of handed batches', () => {
  it('expired ones are pruned a piece per transaction that carries a handed batch, the oldest first, until none is left; recent ones stay', () => {
    const now = Date.now();
    const expired = 3 * HANDED_OUTCOME_PRUNE_LIMIT + 17;
    addOutcomes('older', expired - 100, now - HANDED_OUTCOME_KEEP_MS - 120_000);
    addOutcomes('old', 100, now - HANDED_OUTCOME_KEEP_MS - 60_000);
    addOutcomes('recent', 50, now - 60_000);
    const cutoff = now - HANDED_OUTCOME_KEEP_MS;

    // A transaction without a handed batch prunes nothing.
    round(undefined);
    expect(outcomesBefore(cutoff)).toBe(expired);

    let left = expired;
    for (let transaction = 1; left > 0; transaction += 1) {
      round(`handed-${transaction}`);
      const pruned = left - outcomesBefore(cutoff);
      expect(pruned, `transaction ${transaction}`).toBe(Math.min(HANDED_OUTCOME_PRUNE_LIMIT, left));
      left -= pruned;
      // The oldest go first: the rows of a minute later stay until the older ones are gone.
      const oldLeft = (db.prepare("SELECT count(*) AS n FROM handed_batches WHERE batch_id LIKE 'old-%'").get() as { n: number }).n;
      expect(oldLeft).toBe(Math.min(100, left));
    }
    expect(outcomesBefore(cutoff)).toBe(0);

    // Nothing left over: the next handed transactions within the minute do not prune again, and
    // every recent outcome, and those of the handed batches, are still there.
    addOutcomes('late', 5, now - HANDED_OUTCOME_KEEP_MS - 1_000);
    round('handed-after');
    expect(outcomesBefore(cutoff)).toBe(5);
    expect((db.prepare("SELECT count(*) AS n FROM handed_batches WHERE batch_id LIKE 'recent-%' OR batch_id LIKE 'handed-%'").get() as { n: number }).n).toBe(
      50 + Math.ceil(expired / HANDED_OUTCOME_PRUNE_LIMIT) + 1,
    );
  });
});
