import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import type { BenchRecord } from './records.js';

/**
 * The table of the raw rows: the columns memhub's `records` table stores for a record, in a
 * rowid table with no other index, no tag table and no full-text index. So one record is one
 * INSERT, the least SQLite can do to keep it: the ceiling, not a peer of memhub's schema.
 */
const CREATE_TABLE = `
  CREATE TABLE records (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL,
    layer TEXT NOT NULL,
    content TEXT NOT NULL,
    tags TEXT NOT NULL,
    context_path TEXT NOT NULL,
    metadata TEXT NOT NULL,
    created_at INTEGER NOT NULL
  )`;

const INSERT = `
  INSERT INTO records (id, layer, content, tags, context_path, metadata, created_at)
  VALUES (?, 'application', ?, ?, ?, '{}', ?)`;

/** Creates the raw database in WAL mode (a persistent setting of the file) with its table. */
export function createRawDatabase(path: string): void {
  const db = new Database(path);
  try {
    const mode = String(db.pragma('journal_mode = WAL', { simple: true }));
    if (mode !== 'wal') throw new Error(`SQLite refused WAL mode for ${path} (journal_mode is ${mode})`);
    db.exec(CREATE_TABLE);
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

/** The prepared INSERT, and its parameters for one record (a fresh UUID and the time, as memhub makes them). */
export function prepareInsert(db: Database.Database): (record: BenchRecord) => void {
  const insert = db.prepare(INSERT);
  return (record) => {
    insert.run(randomUUID(), record.content, JSON.stringify(record.tags), record.contextPath, Date.now());
  };
}
