import type Database from 'better-sqlite3';
import { strayVersionsMessage, type VerifyProblem } from '../../verify-report.js';

/**
 * PRAGMA integrity_check of memory.db, in a read transaction of the live connection (no lock that
 * a writer waits for: on a large store it takes seconds), each message turned into a problem. The
 * search index, a database of its own, is checked by SqliteSearchDatabase.check().
 */
export function checkDatabase(db: Database.Database): VerifyProblem[] {
  const problems: VerifyProblem[] = [];
  db.exec('BEGIN DEFERRED');
  try {
    const integrity = db.pragma('integrity_check(100)', { simple: false }) as { integrity_check: string }[];
    for (const { integrity_check: message } of integrity) {
      if (message !== 'ok') problems.push({ kind: 'database-integrity', message });
    }
    const strayVersions = db.prepare(STRAY_VERSIONS_COUNT).pluck().get() as number;
    if (strayVersions > 0) problems.push({ kind: 'history', message: strayVersionsMessage(strayVersions) });
  } finally {
    if (db.inTransaction) db.exec('COMMIT');
  }
  return problems;
}

/**
 * Rebuilds what memory.db can derive from its own records: every index (REINDEX). Runs inside the
 * caller's write transaction. Damage to the records table itself cannot be repaired from the
 * database; the JSONL mirror can rebuild it (rebuildFromMirror). The search index is rebuilt by
 * SqliteSearchDatabase.rebuild().
 */
export function rebuildDerivedData(db: Database.Database): string[] {
  db.exec('REINDEX');
  const actions = ['rebuilt every index of memory.db (REINDEX)'];
  const deleted = db.prepare(`DELETE FROM record_versions WHERE ${STRAY_VERSION}`).run().changes;
  if (deleted > 0) actions.push(`deleted ${deleted} version(s) of records that no longer exist, or not older than their record`);
  return actions;
}

/**
 * A kept version that belongs to no record: its record is gone (a forget deletes the versions in
 * the same transaction, so only a hand-edit leaves one), or it is not older than its record.
 */
const STRAY_VERSION = 'NOT EXISTS (SELECT 1 FROM records r WHERE r.id = record_versions.id AND r.seq > record_versions.seq)';
const STRAY_VERSIONS_COUNT = `SELECT count(*) FROM record_versions WHERE ${STRAY_VERSION}`;

