/**
 * The store's schema, one migration a version. Migrations run under the exclusive
 * `memory.db.lock` inside BEGIN IMMEDIATE, and `PRAGMA user_version` is written last, in the same
 * transaction: a crash mid-migration leaves the previous version whole.
 */
export const SCHEMA_MIGRATIONS: readonly string[] = [
  // 1: records, their tags, full-text index.
  `
  CREATE TABLE records (
    -- Assigned under the write lock, never reused (AUTOINCREMENT): the JSONL mirror tails by seq.
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    layer TEXT NOT NULL,
    content TEXT NOT NULL,
    tags TEXT NOT NULL,
    context_path TEXT NOT NULL,
    metadata TEXT NOT NULL,
    idempotency_key TEXT UNIQUE,
    created_at INTEGER NOT NULL,
    recall_count INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX records_by_layer ON records (layer, seq);
  CREATE INDEX records_by_context ON records (context_path);
  CREATE INDEX records_by_created ON records (created_at);

  CREATE TABLE record_tags (
    tag TEXT NOT NULL,
    record_seq INTEGER NOT NULL REFERENCES records (seq) ON DELETE CASCADE,
    PRIMARY KEY (tag, record_seq)
  ) WITHOUT ROWID;
  CREATE INDEX record_tags_by_record ON record_tags (record_seq);

  -- An external-content index over records.content, kept in step by the writer in the same
  -- transaction (sqlite-writer.ts), not by triggers: a statement that fires a trigger runs in a
  -- statement savepoint, and FTS5 flushes its pending index data at every savepoint, which made
  -- one index segment per record and cost about three times as much.
  CREATE VIRTUAL TABLE records_fts USING fts5 (content, content = 'records', content_rowid = 'seq');
  `,
];

export const CURRENT_SCHEMA_VERSION = SCHEMA_MIGRATIONS.length;
