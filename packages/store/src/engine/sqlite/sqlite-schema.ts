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
  // 2: one sequence for every change, and the journal the JSONL layer mirrors are appended from.
  `
  -- Every change takes its seq from this one counter, under the write lock: a remembered record's
  -- seq, and also a forget, a move between layers or a batch of recall counts, so that each layer's
  -- mirror is one increasing sequence of changes. It starts where records' AUTOINCREMENT left off.
  CREATE TABLE store_sequence (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    last_seq INTEGER NOT NULL
  );
  INSERT INTO store_sequence (id, last_seq)
    VALUES (1, coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'records'), 0));

  -- Changes of mirrored layers not yet appended to their JSONL file, written in the transaction
  -- that makes them. Appending reads them by (layer, seq); once appended, they are pruned.
  CREATE TABLE mirror_journal (
    layer TEXT NOT NULL,
    seq INTEGER NOT NULL,
    -- remember | forget | move-in | move-out | recall-counts
    op TEXT NOT NULL,
    -- remember: a run of consecutive seqs, all records remembered into this layer, from seq to
    -- through; one row for a whole group commit instead of one per record. Else NULL.
    through INTEGER,
    record_id TEXT,
    -- JSON: move-in {"from"}, move-out {"to"}, recall-counts {"counts": {id: total}}, else NULL.
    detail TEXT,
    PRIMARY KEY (layer, seq)
  ) WITHOUT ROWID;

  -- Per layer, the seq up to which journal rows were pruned: a mirror file that ends before it
  -- lost lines the journal no longer has, and is rebuilt from the records.
  CREATE TABLE mirror_layers (
    layer TEXT PRIMARY KEY,
    pruned_through INTEGER NOT NULL DEFAULT 0
  ) WITHOUT ROWID;

  -- Store-wide settings that every process must agree on, read by each write transaction.
  -- mirror: '*' (every layer), a JSON array of layer names, or 'off'.
  CREATE TABLE store_settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
  ) WITHOUT ROWID;
  INSERT INTO store_settings (name, value) VALUES ('mirror', '*');
  INSERT INTO mirror_layers (layer, pruned_through)
    SELECT DISTINCT layer, (SELECT last_seq FROM store_sequence) FROM records;
  `,
  // 3: the search index (records_fts, record_tags) follows the records by seq, in batches, instead
  // of being written inside every write transaction (moved to memory.search.db by migration 6).
  `
  -- How far each view of the records that lives in the database has got: every record with a seq
  -- up to 'through' is in it. 'search': records_fts and record_tags. Until this migration every
  -- record was indexed in its own transaction, so the search index starts caught up.
  CREATE TABLE view_cursors (
    view TEXT PRIMARY KEY,
    through INTEGER NOT NULL
  ) WITHOUT ROWID;
  INSERT INTO view_cursors (view, through) VALUES ('search', (SELECT last_seq FROM store_sequence));
  `,
  // 4: batches handed by one process to another to commit (sqlite-shared-commit.ts).
  `
  -- The outcome of each batch a leader committed for another process, written in the same
  -- transaction as the batch: how its owner learns what happened when the leader died before
  -- answering, and how a leader knows not to apply a batch its owner has decided meanwhile (the
  -- owner committed it itself, or withdrew it: results and error both null). results: JSON, one
  -- entry per operation (handed-batch.ts); error: why the batch failed (nothing of it was
  -- written). Rows are kept an hour at least, then pruned.
  CREATE TABLE handed_batches (
    batch_id TEXT PRIMARY KEY,
    results TEXT,
    error TEXT,
    committed_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX handed_batches_by_time ON handed_batches (committed_at);
  `,
  // 5: the full-text index stems English words (porter): "deploy" finds "deploys" and "deployed".
  `
  -- The records of the unindexed tail get their tag rows first: the cursor moves past them below.
  INSERT OR IGNORE INTO record_tags (tag, record_seq)
    SELECT json_each.value, records.seq FROM records, json_each(records.tags)
     WHERE records.seq > (SELECT through FROM view_cursors WHERE view = 'search');
  DROP TABLE records_fts;
  CREATE VIRTUAL TABLE records_fts USING fts5 (
    content, content = 'records', content_rowid = 'seq', tokenize = 'porter unicode61 remove_diacritics 2'
  );
  -- Every record, the tail included, indexed anew with the stemming tokenizer.
  INSERT INTO records_fts (records_fts) VALUES ('rebuild');
  UPDATE view_cursors SET through = (SELECT last_seq FROM store_sequence) WHERE view = 'search';
  `,
  // 6: the search index moves to a database of its own, memory.search.db, with a lock of its own
  // (sqlite-search-database.ts): indexing no longer takes the store's write lock.
  `
  -- The full-text index and the tag rows are built again there from the records, by seq.
  DROP TABLE records_fts;
  DROP TABLE record_tags;
  DROP TABLE view_cursors;
  -- Each forget of a record adds a row here, in its own transaction, under its own seq: the
  -- search index drops the record's entry when it applies the row, and rows it has applied are pruned.
  CREATE TABLE search_removals (
    change_seq INTEGER PRIMARY KEY,
    record_seq INTEGER NOT NULL
  );
  -- Names this database for the search index that follows it: an index made from another
  -- memory.db (a replaced or rebuilt one) is emptied and made again.
  INSERT INTO store_settings (name, value) VALUES ('store_id', lower(hex(randomblob(16))));
  `,
  // 7: update() writes new versions of a record; the versions it replaced are kept for history().
  `
  -- When the current version was written by update(); NULL for a record never updated.
  ALTER TABLE records ADD COLUMN updated_at INTEGER;
  -- Every version an update replaced, under the seq it had while it was current: a record's
  -- history is these, in seq order, then the record itself. A forget deletes them with the record.
  CREATE TABLE record_versions (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL,
    layer TEXT NOT NULL,
    content TEXT NOT NULL,
    tags TEXT NOT NULL,
    context_path TEXT NOT NULL,
    metadata TEXT NOT NULL,
    -- When this version was written: the record's created_at for the first, updated_at for the others.
    written_at INTEGER NOT NULL
  );
  CREATE INDEX record_versions_by_id ON record_versions (id, seq);
  `,
  // 8: the lifecycle of a record: pinned, an expiry, and when it was last recalled (maintain()'s policies).
  `
  -- 1: first in recall, never archived by a policy.
  ALTER TABLE records ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;
  -- Epoch milliseconds: not recalled from then on, archived (or forgotten) by maintain(). NULL: never.
  ALTER TABLE records ADD COLUMN expires_at INTEGER;
  -- Epoch milliseconds: when recall counts were last added for it (a batch's time); NULL: never recalled.
  ALTER TABLE records ADD COLUMN last_recalled_at INTEGER;
  CREATE INDEX records_by_expiry ON records (expires_at) WHERE expires_at IS NOT NULL;
  -- The pinned records, newest first: what a recall without words lists before the others.
  CREATE INDEX records_pinned ON records (seq) WHERE pinned = 1;
  `,
];

export const CURRENT_SCHEMA_VERSION = SCHEMA_MIGRATIONS.length;
