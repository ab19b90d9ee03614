import type { ColumnType, Generated, GeneratedAlways, Insertable, Selectable } from 'kysely';

/**
 * The tables of a store's schema as Kysely sees them: the typed schema behind every query the
 * PostgreSQL engine builds. `bigint` columns arrive as numbers (see postgres-pool.ts).
 */
export interface RecordsTable {
  /** The record's place in the store's write order, assigned under the write lock (seq_counter). */
  seq: number;
  id: string;
  layer: string;
  /** The content, NUL characters escaped (postgres-text.ts). */
  content: string;
  tags: string[];
  context_path: string;
  /** JSON text in, parsed object out (the `json` type keeps the text exactly as written). */
  metadata: ColumnType<Record<string, unknown>, string, string>;
  /** NUL characters escaped, as in content. */
  idempotency_key: string | null;
  /** Epoch milliseconds, as SQLite keeps it: every time an export can hold is stored exactly. */
  created_at: number;
  recall_count: Generated<number>;
  /** Epoch milliseconds: when update() wrote the current version; null if never. */
  updated_at: ColumnType<number | null, number | null | undefined, number | null>;
  pinned: ColumnType<boolean, boolean | undefined, boolean>;
  /** Epoch milliseconds; null if it never expires. */
  expires_at: ColumnType<number | null, number | null | undefined, number | null>;
  /** Epoch milliseconds: when recall counts were last added for it; null if never. */
  last_recalled_at: ColumnType<number | null, number | null | undefined, number | null>;
  /** Derived by PostgreSQL from content; never written, and not read back. */
  content_tsv: GeneratedAlways<string>;
}

export type RecordRow = Omit<Selectable<RecordsTable>, 'content_tsv' | 'last_recalled_at'>;
export type NewRecordRow = Insertable<RecordsTable>;

/** One row: the highest seq handed out so far. Written only under the write lock. */
export interface SeqCounterTable {
  last_seq: number;
}

/** One row: the schema version of the store, written last by each migration. */
export interface SchemaVersionTable {
  version: number;
}

/** A version of a record that an update replaced, under the seq it had (NUL characters escaped as in records). */
export interface RecordVersionsTable {
  seq: number;
  id: string;
  layer: string;
  content: string;
  tags: string[];
  context_path: string;
  metadata: ColumnType<Record<string, unknown>, string, string>;
  written_at: number;
}

export interface PostgresTables {
  records: RecordsTable;
  record_versions: RecordVersionsTable;
  seq_counter: SeqCounterTable;
  schema_version: SchemaVersionTable;
}

/** The columns of `records` that make a MemoryRecord (everything but the derived tsvector). */
export const RECORD_COLUMNS = [
  'seq',
  'id',
  'layer',
  'content',
  'tags',
  'context_path',
  'metadata',
  'idempotency_key',
  'created_at',
  'recall_count',
  'updated_at',
  'pinned',
  'expires_at',
] as const satisfies readonly (keyof RecordRow)[];
