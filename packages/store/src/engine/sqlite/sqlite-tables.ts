import type { Generated, Insertable, Selectable } from 'kysely';

/** The tables as Kysely sees them: the typed schema behind every query the engine builds. */
export interface RecordsTable {
  seq: Generated<number>;
  id: string;
  layer: string;
  content: string;
  /** JSON array of strings. */
  tags: string;
  context_path: string;
  /** JSON object. */
  metadata: string;
  idempotency_key: string | null;
  /** Epoch milliseconds. */
  created_at: number;
  recall_count: Generated<number>;
  /** Epoch milliseconds: when update() wrote the current version; null if never. */
  updated_at: number | null;
  /** 1 for a pinned record, else 0. */
  pinned: number;
  /** Epoch milliseconds; null if it never expires. */
  expires_at: number | null;
  /** Epoch milliseconds: when recall counts were last added for it; null if never. */
  last_recalled_at: number | null;
}

export type RecordRow = Selectable<RecordsTable>;
export type NewRecordRow = Insertable<RecordsTable>;

/** A version of a record that an update replaced (record_versions), under the seq it had. */
export interface RecordVersionsTable {
  seq: number;
  id: string;
  layer: string;
  content: string;
  tags: string;
  context_path: string;
  metadata: string;
  /** Epoch milliseconds. */
  written_at: number;
}

/** A record's tag, in memory.search.db (sqlite-search-database.ts), read where memory.db is attached. */
export interface RecordTagsTable {
  tag: string;
  record_seq: number;
}

/**
 * The FTS5 index over records.content (rowid = records.seq), contentless, in memory.search.db
 * (sqlite-search-database.ts); the hidden column is the table's name.
 */
export interface RecordsFtsTable {
  rowid: number;
  content: string;
  /** Written only to pass FTS5 a command, such as 'delete'. */
  records_fts: string | null;
}

/** The one counter every change takes its seq from (a single row, id 1). */
export interface StoreSequenceTable {
  id: number;
  last_seq: number;
}

export type MirrorOp = 'remember' | 'update' | 'forget' | 'move-in' | 'move-out' | 'recall-counts';

/** A change of a mirrored layer, waiting to be appended to the layer's JSONL file. */
export interface MirrorJournalTable {
  layer: string;
  seq: number;
  op: MirrorOp;
  /** remember: the last seq of the run of records this row stands for (from `seq`); else null. */
  through: number | null;
  record_id: string | null;
  /** JSON, by op: move-in {"from"}, move-out {"to"}, recall-counts {"counts": {id: total}}; else null. */
  detail: string | null;
}

export interface MirrorLayersTable {
  layer: string;
  pruned_through: number;
}

export interface StoreSettingsTable {
  name: string;
  value: string;
}

/** A forgotten record's seq, for the search index to drop (sqlite-search-database.ts), by the forget's own seq. */
export interface SearchRemovalsTable {
  change_seq: number;
  record_seq: number;
}

/** The outcome of a batch handed by one process to another to commit (sqlite-shared-commit.ts). */
export interface HandedBatchesTable {
  batch_id: string;
  /** JSON array, one HandedResult per operation; null when the batch failed or was withdrawn. */
  results: string | null;
  /** Why the batch failed (nothing of it was written); null when it was written or withdrawn. */
  error: string | null;
  /** Epoch milliseconds. */
  committed_at: number;
}

/** The tables SQL is built for: memory.db's, and the search index's, as its reader sees them with memory.db attached. */
export interface StoreTables {
  records: RecordsTable;
  record_versions: RecordVersionsTable;
  record_tags: RecordTagsTable;
  records_fts: RecordsFtsTable;
  store_sequence: StoreSequenceTable;
  mirror_journal: MirrorJournalTable;
  mirror_layers: MirrorLayersTable;
  store_settings: StoreSettingsTable;
  search_removals: SearchRemovalsTable;
  handed_batches: HandedBatchesTable;
}
