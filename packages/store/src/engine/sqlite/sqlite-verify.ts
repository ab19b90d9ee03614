import type Database from 'better-sqlite3';
import type { VerifyProblem } from '../../verify-report.js';

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
  return ['rebuilt every index of memory.db (REINDEX)'];
}
