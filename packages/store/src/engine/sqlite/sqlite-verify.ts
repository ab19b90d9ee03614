import type Database from 'better-sqlite3';
import type { VerifyProblem } from '../../verify-report.js';

/**
 * The database's own checks, each turned into problems a person can act on:
 * - PRAGMA integrity_check: the b-trees and their indexes;
 * - FTS5's integrity-check with rank 1: the full-text index against the records it indexes;
 * - the tag rows against each record's tags.
 * The FTS5 check is issued as an INSERT, so the caller runs this under the write lock inside a
 * transaction that it rolls back.
 */
export function checkDatabase(db: Database.Database): VerifyProblem[] {
  const problems: VerifyProblem[] = [];
  // FTS5's own check first. It also refreshes FTS5's cached copy of the index structure, which
  // PRAGMA integrity_check reuses as it is: after another connection has merged index segments,
  // a stale copy made integrity_check report "fts5: corruption found reading blob" for a healthy
  // database (a fresh connection found none).
  try {
    db.prepare(`INSERT INTO records_fts (records_fts, rank) VALUES ('integrity-check', 1)`).run();
  } catch (error) {
    problems.push({ kind: 'full-text-index', message: `the full-text index does not match the records: ${(error as Error).message}` });
  }
  const integrity = db.pragma('integrity_check(100)', { simple: false }) as { integrity_check: string }[];
  for (const { integrity_check: message } of integrity) {
    if (message !== 'ok') problems.push({ kind: 'database-integrity', message });
  }
  const mismatched = db.prepare(TAG_MISMATCH_SQL).pluck().all() as string[];
  if (mismatched.length > 0) {
    problems.push({
      kind: 'tags',
      message: `${mismatched.length} record(s) whose tag rows differ from their tags, e.g. ${mismatched.slice(0, 5).join(', ')}`,
    });
  }
  return problems;
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
