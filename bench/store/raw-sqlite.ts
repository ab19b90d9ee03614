import { dirname } from 'node:path';
import { newRecordId, openStore } from '@memhub/store';
import Database from 'better-sqlite3';
import type { BenchRecord } from './records.js';

/**
 * The raw rows write into memhub's own schema (created by openStore: the records table and its
 * indexes) plus the search index memhub keeps in memory.search.db, here in the same database and
 * written inline, record by record, as a store without memhub's design would: the tag rows and an
 * FTS5 index over the content with memhub's tokenizer. The statements are the ones memhub runs for
 * a record, minus memhub: no lock, no queue, no validation, no read-back, no index that follows
 * later. So a ratio between a memhub row and a raw row is the cost of memhub itself, not of the
 * data model.
 */
const INSERT_RECORD = `
  INSERT INTO records (id, layer, content, tags, context_path, metadata, idempotency_key, created_at)
  VALUES (?, 'application', ?, ?, ?, '{}', NULL, ?)`;
const INDEX_CONTENT = 'INSERT INTO records_fts (rowid, content) VALUES (?, ?)';
const INSERT_TAG = 'INSERT INTO record_tags (tag, record_seq) VALUES (?, ?)';

/**
 * Creates the raw database with memhub's schema, in WAL mode, by opening and closing a store on
 * it, then adds the search index's tables to it.
 */
export async function createRawDatabase(path: string): Promise<void> {
  const store = await openStore({ dir: dirname(path) });
  await store.close();
  const db = new Database(path, { fileMustExist: true });
  try {
    db.exec(`
      CREATE TABLE record_tags (
        tag TEXT NOT NULL,
        record_seq INTEGER NOT NULL REFERENCES records (seq) ON DELETE CASCADE,
        PRIMARY KEY (tag, record_seq)
      ) WITHOUT ROWID;
      CREATE INDEX record_tags_by_record ON record_tags (record_seq);
      CREATE VIRTUAL TABLE records_fts USING fts5 (
        content, content = 'records', content_rowid = 'seq', tokenize = 'porter unicode61 remove_diacritics 2'
      );
    `);
  } finally {
    db.close();
  }
}

/**
 * Opens a writer's connection as memhub's default durability does: WAL, synchronous=NORMAL
 * (per connection), and the given busy_timeout.
 */
export function openRawConnection(path: string, busyTimeoutMs: number): Database.Database {
  const db = new Database(path, { fileMustExist: true });
  db.pragma(`busy_timeout = ${busyTimeoutMs}`);
  db.pragma('synchronous = NORMAL');
  const mode = String(db.pragma('journal_mode', { simple: true }));
  if (mode !== 'wal') throw new Error(`${path} is not in WAL mode (journal_mode is ${mode})`);
  return db;
}

/** The prepared statements of one record, as memhub's writer runs them (a new id from memhub's own generator, and the time). */
export function prepareInsert(db: Database.Database): (record: BenchRecord) => void {
  const insertRecord = db.prepare(INSERT_RECORD);
  const indexContent = db.prepare(INDEX_CONTENT);
  const insertTag = db.prepare(INSERT_TAG);
  return (record) => {
    const { lastInsertRowid } = insertRecord.run(
      newRecordId(),
      record.content,
      JSON.stringify(record.tags),
      record.contextPath,
      Date.now(),
    );
    indexContent.run(lastInsertRowid, record.content);
    for (const tag of record.tags) insertTag.run(tag, lastInsertRowid);
  };
}
