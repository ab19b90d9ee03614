import type pg from 'pg';
import { StoreCompatibilityError } from '../../errors.js';

/**
 * How much of a content the full-text index reads: 256 Ki characters. The worst case, distinct
 * words of three to five characters, makes about 650 kB of tsvector from that many, under
 * PostgreSQL's 1 MB limit; twice as many could pass it.
 */
export const FULL_TEXT_CHARACTERS = 262_144;

/**
 * The metadata as jsonb, for the metadata index and the filters that use it (the same expression
 * text in both, or PostgreSQL does not use the index). A json document holding a \u0000 escape
 * cannot become jsonb (text cannot hold NUL): such a record's expression is NULL, so it is in no
 * filter's results and its insert never fails.
 */
export const METADATA_JSONB = `CASE WHEN strpos(metadata::text, '\\u0000') > 0 THEN NULL ELSE metadata::jsonb END`;

/** The text search configuration of a store's schema (migration 2): English stems, no stop words. */
export const TEXT_SEARCH_CONFIGURATION = 'memhub_english';

/** The configuration as a regconfig name, schema-qualified, for the queries. */
export function textSearchConfiguration(schema: string): string {
  return `"${schema}".${TEXT_SEARCH_CONFIGURATION}`;
}

/**
 * The store's schema, one migration a version, each a function of the (validated) schema name.
 * They run in one transaction under the store's write lock, and the version row is written last
 * in it: a crash mid-migration leaves the previous version whole (DDL is transactional in
 * PostgreSQL), and many processes on many hosts opening a new store at once create it once.
 */
export const SCHEMA_MIGRATIONS: readonly ((schema: string) => string)[] = [
  // 1: records with their full-text vector, the seq counter.
  (schema) => `
  CREATE TABLE "${schema}".records (
    -- Assigned under the write lock from seq_counter, never reused: a reader that tails by seq
    -- never skips a record that committed late.
    seq bigint NOT NULL PRIMARY KEY,
    id text NOT NULL UNIQUE,
    layer text NOT NULL,
    content text NOT NULL,
    tags text[] NOT NULL,
    -- Byte order (C collation), so that a contextPath prefix is one index range.
    context_path text COLLATE "C" NOT NULL,
    -- json, not jsonb: it keeps the text as written, \\u0000 escapes included.
    metadata json NOT NULL,
    idempotency_key text UNIQUE,
    -- Epoch milliseconds, as in SQLite: any time an export holds is kept exactly (timestamptz
    -- takes neither the years before 1 nor those after 9999 that JavaScript dates allow).
    created_at bigint NOT NULL,
    recall_count bigint NOT NULL DEFAULT 0,
    -- The 'simple' configuration lower-cases and stems nothing (migration 2 replaces it with
    -- English stems). Generated, so it can never disagree with content. A tsvector holds at
    -- most 1 MB, and a content of 1 MiB in distinct short words would need about 1.5 MB: so only
    -- the first ${FULL_TEXT_CHARACTERS} characters are indexed, which no content can overflow.
    content_tsv tsvector NOT NULL GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, left(content, ${FULL_TEXT_CHARACTERS}))) STORED
  );
  CREATE INDEX records_by_words ON "${schema}".records USING gin (content_tsv);
  CREATE INDEX records_by_tags ON "${schema}".records USING gin (tags);
  CREATE INDEX records_by_layer ON "${schema}".records (layer, seq);
  CREATE INDEX records_by_context ON "${schema}".records (context_path);
  CREATE INDEX records_by_created ON "${schema}".records (created_at);

  CREATE TABLE "${schema}".seq_counter (
    only_row boolean NOT NULL PRIMARY KEY DEFAULT true CHECK (only_row),
    last_seq bigint NOT NULL
  );
  INSERT INTO "${schema}".seq_counter (last_seq) VALUES (0);
  `,
  // 2: the full-text vector stems English words, as SQLite's porter tokenizer does.
  (schema) => `
  -- English stems ("deploys" -> "deploy") without English stop words: SQLite's index keeps every
  -- word, and a query for "the" or "it" must find the same records on both engines.
  CREATE TEXT SEARCH DICTIONARY "${schema}".memhub_english_stem (TEMPLATE = snowball, Language = english);
  CREATE TEXT SEARCH CONFIGURATION "${schema}".${TEXT_SEARCH_CONFIGURATION} (COPY = pg_catalog.english);
  ALTER TEXT SEARCH CONFIGURATION "${schema}".${TEXT_SEARCH_CONFIGURATION}
    ALTER MAPPING FOR asciiword, asciihword, hword_asciipart, word, hword, hword_part WITH "${schema}".memhub_english_stem;
  DROP INDEX "${schema}".records_by_words;
  ALTER TABLE "${schema}".records DROP COLUMN content_tsv;
  ALTER TABLE "${schema}".records ADD COLUMN content_tsv tsvector NOT NULL
    GENERATED ALWAYS AS (to_tsvector('"${schema}".${TEXT_SEARCH_CONFIGURATION}'::regconfig, left(content, ${FULL_TEXT_CHARACTERS}))) STORED;
  CREATE INDEX records_by_words ON "${schema}".records USING gin (content_tsv);
  `,
  // 3: update() writes new versions of a record; the versions it replaced are kept for history().
  (schema) => `
  -- When the current version was written by update(), epoch milliseconds; NULL if never.
  ALTER TABLE "${schema}".records ADD COLUMN updated_at bigint;
  -- Every version an update replaced, under the seq it had while it was current. A forget
  -- deletes them with the record.
  CREATE TABLE "${schema}".record_versions (
    seq bigint NOT NULL PRIMARY KEY,
    id text NOT NULL,
    layer text NOT NULL,
    content text NOT NULL,
    tags text[] NOT NULL,
    context_path text COLLATE "C" NOT NULL,
    metadata json NOT NULL,
    -- When this version was written: the record's created_at for the first, updated_at after.
    written_at bigint NOT NULL
  );
  CREATE INDEX record_versions_by_id ON "${schema}".record_versions (id, seq);
  `,
  // 4: the lifecycle of a record: pinned, an expiry, and when it was last recalled (maintain()'s policies).
  (schema) => `
  ALTER TABLE "${schema}".records ADD COLUMN pinned boolean NOT NULL DEFAULT false;
  -- Epoch milliseconds: not recalled from then on, archived (or forgotten) by maintain(). NULL: never.
  ALTER TABLE "${schema}".records ADD COLUMN expires_at bigint;
  -- Epoch milliseconds: when recall counts were last added for it; NULL: never recalled.
  ALTER TABLE "${schema}".records ADD COLUMN last_recalled_at bigint;
  CREATE INDEX records_by_expiry ON "${schema}".records (expires_at) WHERE expires_at IS NOT NULL;
  CREATE INDEX records_pinned ON "${schema}".records (seq) WHERE pinned;
  `,
  // 5: recall's metadata filters use an index: GIN over the metadata as jsonb (see METADATA_JSONB).
  (schema) => `
  CREATE INDEX records_by_metadata ON "${schema}".records USING gin ((${METADATA_JSONB}) jsonb_path_ops);
  `,
];

export const CURRENT_SCHEMA_VERSION = SCHEMA_MIGRATIONS.length;

/** An index of the current schema: what it serves, and how repair() recreates it when it is missing. */
export interface IndexDefinition {
  readonly purpose: string;
  readonly create: (schema: string) => string;
}

/**
 * The indexes that the writer and recall rely on, as the current schema has them: verify()
 * reports any that is missing or invalid, repair() recreates the missing ones. The constraints'
 * indexes carry PostgreSQL's default names.
 */
export const INDEXES: Readonly<Record<string, IndexDefinition>> = {
  records_pkey: { purpose: 'seq, unique', create: (s) => `ALTER TABLE "${s}".records ADD CONSTRAINT records_pkey PRIMARY KEY (seq)` },
  records_id_key: { purpose: 'id, unique', create: (s) => `ALTER TABLE "${s}".records ADD CONSTRAINT records_id_key UNIQUE (id)` },
  records_idempotency_key_key: {
    purpose: 'idempotency keys, unique',
    create: (s) => `ALTER TABLE "${s}".records ADD CONSTRAINT records_idempotency_key_key UNIQUE (idempotency_key)`,
  },
  records_by_words: { purpose: 'full-text recall', create: (s) => `CREATE INDEX records_by_words ON "${s}".records USING gin (content_tsv)` },
  records_by_tags: { purpose: 'recall by tags', create: (s) => `CREATE INDEX records_by_tags ON "${s}".records USING gin (tags)` },
  records_by_layer: { purpose: 'recall by layer', create: (s) => `CREATE INDEX records_by_layer ON "${s}".records (layer, seq)` },
  records_by_context: { purpose: 'recall by contextPath', create: (s) => `CREATE INDEX records_by_context ON "${s}".records (context_path)` },
  records_by_created: { purpose: 'recall and archive by time', create: (s) => `CREATE INDEX records_by_created ON "${s}".records (created_at)` },
  records_by_metadata: { purpose: 'recall by metadata', create: (s) => `CREATE INDEX records_by_metadata ON "${s}".records USING gin ((${METADATA_JSONB}) jsonb_path_ops)` },
  records_pinned: { purpose: 'recall listing pinned records first', create: (s) => `CREATE INDEX records_pinned ON "${s}".records (seq) WHERE pinned` },
  records_by_expiry: { purpose: 'maintain() finding expired records', create: (s) => `CREATE INDEX records_by_expiry ON "${s}".records (expires_at) WHERE expires_at IS NOT NULL` },
};

/** The oldest server memhub runs on: per-statement timeouts inside a multi-statement query (13), generated columns (12). */
export const MINIMUM_SERVER_VERSION = 130000;

/**
 * The store's schema version, or 0 when the schema or its version table does not exist yet.
 * Read without the lock: a store at the current version is opened without waiting for writers.
 */
export async function readSchemaVersion(client: pg.ClientBase, schema: string): Promise<number> {
  const exists = await client.query<{ table: string | null }>(`SELECT to_regclass($1) AS table`, [`"${schema}".schema_version`]);
  if (exists.rows[0]?.table == null) return 0;
  const result = await client.query<{ version: number }>(`SELECT version FROM "${schema}".schema_version`);
  return result.rows[0]?.version ?? 0;
}

/**
 * Brings the schema to the current version: under the write lock, in one transaction, version row
 * last. The caller has checked the server's version. `beginSql` opens the transaction and takes the lock.
 */
export async function migrateSchema(client: pg.ClientBase, schema: string, beginSql: string): Promise<void> {
  const found = await readSchemaVersion(client, schema);
  assertNotNewer(found);
  if (found === CURRENT_SCHEMA_VERSION) return;
  await client.query(beginSql);
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    await client.query(`CREATE TABLE IF NOT EXISTS "${schema}".schema_version (version integer NOT NULL)`);
    // Read again under the lock: another process may have migrated meanwhile.
    const version = await readSchemaVersion(client, schema);
    assertNotNewer(version);
    for (let next = version; next < CURRENT_SCHEMA_VERSION; next += 1) await client.query((SCHEMA_MIGRATIONS[next] as (schema: string) => string)(schema));
    if (version < CURRENT_SCHEMA_VERSION) {
      await client.query(`DELETE FROM "${schema}".schema_version`);
      await client.query(`INSERT INTO "${schema}".schema_version (version) VALUES ($1)`, [CURRENT_SCHEMA_VERSION]);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}

function assertNotNewer(version: number): void {
  if (version > CURRENT_SCHEMA_VERSION) {
    throw new StoreCompatibilityError(
      `This store has schema version ${version}, newer than this memhub understands (${CURRENT_SCHEMA_VERSION}). Upgrade memhub to open it.`,
    );
  }
}
