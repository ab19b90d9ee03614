import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { VerifyProblem } from '../../verify-report.js';
import { SqliteSearchIndex } from './sqlite-search-index.js';

/**
 * The database's own checks, each turned into problems a person can act on, none of them under
 * the store's write lock (on a large store they take seconds, and writers would time out):
 * - PRAGMA integrity_check, in a read transaction of the live connection: the b-trees, their
 *   indexes and the full-text index's own structure;
 * - FTS5's integrity-check with rank 1, the full-text index against the records it indexes, and
 *   the tag rows against each record's tags: the first is an INSERT command, which would need
 *   SQLite's write lock (and fails outright on a database this process may only read), and both
 *   need the unindexed tail indexed first, so they run on a copy made by VACUUM INTO (a consistent
 *   snapshot, read in a read transaction: no lock that a writer waits for) in a temporary folder,
 *   deleted after.
 */
export function checkDatabase(db: Database.Database): VerifyProblem[] {
  const problems: VerifyProblem[] = [];
  db.exec('BEGIN DEFERRED');
  try {
    // A full-text read first: it refreshes FTS5's cached copy of the index structure, which
    // PRAGMA integrity_check reuses as it is. After another connection had merged index segments,
    // a stale copy made integrity_check report "fts5: corruption found reading blob" for a healthy
    // database (a fresh connection found none).
    db.prepare(`SELECT rowid FROM records_fts WHERE records_fts MATCH '"memhub"' LIMIT 1`).get();
    const integrity = db.pragma('integrity_check(100)', { simple: false }) as { integrity_check: string }[];
    for (const { integrity_check: message } of integrity) {
      if (message !== 'ok') problems.push({ kind: 'database-integrity', message });
    }
  } finally {
    if (db.inTransaction) db.exec('COMMIT');
  }
  problems.push(...checkSearchIndexOnCopy(db));
  return problems;
}

/**
 * The search index against the records, on a snapshot copy of the database: the copy's
 * unindexed tail is indexed first (the search index follows the records in batches, see
 * SqliteSearchIndex: a tail is not a problem, an index that does not match the records it has
 * reached is), then FTS5's own check and the tag rows.
 */
function checkSearchIndexOnCopy(db: Database.Database): VerifyProblem[] {
  const folder = mkdtempSync(join(tmpdir(), 'memhub-verify-'));
  try {
    const copyPath = join(folder, 'snapshot.db');
    try {
      db.prepare('VACUUM INTO ?').run(copyPath);
    } catch (error) {
      return [{ kind: 'full-text-index', message: `the full-text index could not be checked: no snapshot copy could be made in ${folder} (${(error as Error).message})` }];
    }
    const copy = new Database(copyPath);
    try {
      const problems: VerifyProblem[] = [];
      const search = new SqliteSearchIndex(copy);
      copy.transaction(() => search.catchUp()).immediate();
      try {
        copy.prepare(`INSERT INTO records_fts (records_fts, rank) VALUES ('integrity-check', 1)`).run();
      } catch (error) {
        problems.push({ kind: 'full-text-index', message: `the full-text index does not match the records: ${(error as Error).message}` });
      }
      const mismatched = copy.prepare(TAG_MISMATCH_SQL).pluck().all() as string[];
      if (mismatched.length > 0) {
        problems.push({
          kind: 'tags',
          message: `${mismatched.length} record(s) whose tag rows differ from their tags, e.g. ${mismatched.slice(0, 5).join(', ')}`,
        });
      }
      return problems;
    } finally {
      copy.close();
    }
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

/**
 * Rebuilds what can be derived from the records themselves: the full-text index and the tag rows.
 * Runs inside the caller's write transaction. Damage to the records table itself cannot be
 * repaired from the database; the JSONL mirror can rebuild it (rebuildFromMirror).
 */
export function rebuildDerivedData(db: Database.Database): string[] {
  const actions: string[] = [];
  db.prepare(`INSERT INTO records_fts (records_fts) VALUES ('rebuild')`).run();
  actions.push('rebuilt the full-text index from the records');
  const mismatched = db.prepare(TAG_MISMATCH_SQL).pluck().all() as string[];
  if (mismatched.length > 0) {
    const seqs = db.prepare('SELECT seq FROM records WHERE id = ?').pluck();
    const clear = db.prepare('DELETE FROM record_tags WHERE record_seq = ?');
    const refill = db.prepare('INSERT INTO record_tags (tag, record_seq) SELECT DISTINCT value, ? FROM json_each((SELECT tags FROM records WHERE seq = ?))');
    for (const id of mismatched) {
      const seq = seqs.get(id);
      clear.run(seq);
      refill.run(seq, seq);
    }
    actions.push(`rewrote the tag rows of ${mismatched.length} record(s) from their tags`);
  }
  db.exec('REINDEX');
  actions.push('rebuilt every index (REINDEX)');
  return actions;
}

/** Ids of records whose tag rows are not exactly their tags. */
const TAG_MISMATCH_SQL = `
  SELECT r.id FROM records r
  WHERE (SELECT count(*) FROM record_tags t WHERE t.record_seq = r.seq) != json_array_length(r.tags)
     OR EXISTS (
       SELECT 1 FROM json_each(r.tags) j
       WHERE NOT EXISTS (SELECT 1 FROM record_tags t WHERE t.record_seq = r.seq AND t.tag = j.value)
     )
  LIMIT 10000`;
