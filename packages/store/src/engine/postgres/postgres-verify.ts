import { sql, type Kysely } from 'kysely';
import type pg from 'pg';
import { strayVersionsMessage, type VerifyProblem } from '../../verify-report.js';
import { CURRENT_SCHEMA_VERSION, INDEXES } from './postgres-schema.js';
import type { PostgresTables } from './postgres-tables.js';

/**
 * The checks that mean something on PostgreSQL, where the server keeps its own storage whole
 * and the tsvector is a generated column that cannot drift from the content:
 * - database-integrity: the schema version, and every index the store relies on is there and valid;
 * - full-text-index: the same for the GIN index over the words;
 * - sequence: the seq counter exists and is at or past the highest seq (else the next write
 *   would reuse a seq), and no seq is below 1;
 * - tags: every record's tags are distinct, non-empty strings (what recall by tags relies on).
 * Run in one REPEATABLE READ READ ONLY transaction, so every check sees the same moment.
 */
export async function checkDatabase(db: Kysely<PostgresTables>, schema: string): Promise<VerifyProblem[]> {
  return db
    .transaction()
    .setIsolationLevel('repeatable read')
    .setAccessMode('read only')
    .execute(async (trx) => {
      const problems: VerifyProblem[] = [];
      const version = await sql<{ version: number }>`SELECT version FROM ${sql.id(schema, 'schema_version')}`.execute(trx);
      if (version.rows.length !== 1 || version.rows[0]?.version !== CURRENT_SCHEMA_VERSION) {
        problems.push({
          kind: 'database-integrity',
          message: `the schema_version table holds ${JSON.stringify(version.rows.map((row) => row.version))}, expected [${CURRENT_SCHEMA_VERSION}]`,
        });
      }
      const present = await sql<{ name: string; valid: boolean }>`
        SELECT c.relname AS name, i.indisvalid AS valid
          FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = ${schema}`.execute(trx);
      const validity = new Map(present.rows.map((row) => [row.name, row.valid]));
      for (const [name, index] of Object.entries(INDEXES)) {
        const valid = validity.get(name);
        if (valid === true) continue;
        problems.push({
          kind: name === 'records_by_words' ? 'full-text-index' : 'database-integrity',
          message: `the index ${name} (${index.purpose}) is ${valid === undefined ? 'missing' : 'invalid (a failed build left it unusable)'}`,
        });
      }
      const sequence = await sql<{ counters: number; last_seq: number | null; max_seq: number | null; below_one: number }>`
        SELECT (SELECT count(*) FROM ${sql.id(schema, 'seq_counter')}) AS counters,
               (SELECT max(last_seq) FROM ${sql.id(schema, 'seq_counter')}) AS last_seq,
               (SELECT max(seq) FROM ${sql.id(schema, 'records')}) AS max_seq,
               (SELECT count(*) FROM ${sql.id(schema, 'records')} WHERE seq < 1) AS below_one`.execute(trx);
      const { counters, last_seq: lastSeq, max_seq: maxSeq, below_one: belowOne } = sequence.rows[0] as (typeof sequence.rows)[number];
      if (counters !== 1) {
        problems.push({ kind: 'sequence', message: `the seq_counter table has ${counters} rows, expected 1` });
      } else if (maxSeq !== null && (lastSeq ?? 0) < maxSeq) {
        problems.push({ kind: 'sequence', message: `the seq counter is at ${lastSeq}, below the highest seq ${maxSeq}: the next write would reuse a seq` });
      }
      if (belowOne > 0) problems.push({ kind: 'sequence', message: `${belowOne} record(s) have a seq below 1` });
      const stray = await sql<{ n: number }>`
        SELECT count(*)::int AS n FROM ${sql.id(schema, 'record_versions')} v
         WHERE NOT EXISTS (SELECT 1 FROM ${sql.id(schema, 'records')} r WHERE r.id = v.id AND r.seq > v.seq)`.execute(trx);
      const strayCount = stray.rows[0]?.n ?? 0;
      if (strayCount > 0) problems.push({ kind: 'history', message: strayVersionsMessage(strayCount) });
      const badTags = await sql<{ id: string }>`
        SELECT id FROM ${sql.id(schema, 'records')} WHERE ${sql.raw(TAGS_NOT_CLEAN)} ORDER BY seq LIMIT 10000`.execute(trx);
      if (badTags.rows.length > 0) {
        problems.push({
          kind: 'tags',
          message: `${badTags.rows.length} record(s) whose tags are not distinct non-empty strings, e.g. ${badTags.rows.slice(0, 5).map((row) => row.id).join(', ')}`,
        });
      }
      return problems;
    });
}

/**
 * Fixes what checkDatabase finds, inside the caller's write transaction (under the write lock):
 * creates missing indexes, rebuilds the table's indexes (REINDEX, which also makes invalid ones
 * valid), puts the seq counter back at or past the highest seq, and cleans tags. Resolves with
 * what it did. The records themselves are PostgreSQL's to keep whole.
 */
export async function rebuildDerivedData(client: pg.ClientBase, schema: string): Promise<string[]> {
  const actions: string[] = [];
  const present = await client.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1`,
    [schema],
  );
  const names = new Set(present.rows.map((row) => row.name));
  for (const [name, index] of Object.entries(INDEXES)) {
    if (names.has(name)) continue;
    await client.query(index.create(schema));
    actions.push(`created the missing index ${name}`);
  }
  await client.query(`REINDEX TABLE "${schema}".records`);
  actions.push('rebuilt every index of the records (REINDEX)');
  const counter = await client.query(`SELECT 1 FROM "${schema}".seq_counter`);
  if (counter.rowCount !== 1) {
    await client.query(`DELETE FROM "${schema}".seq_counter`);
    await client.query(`INSERT INTO "${schema}".seq_counter (last_seq) SELECT coalesce(max(seq), 0) FROM "${schema}".records`);
    actions.push('recreated the seq counter at the highest seq');
  } else {
    const moved = await client.query(
      `UPDATE "${schema}".seq_counter SET last_seq = (SELECT max(seq) FROM "${schema}".records)
        WHERE last_seq < (SELECT max(seq) FROM "${schema}".records)`,
    );
    if ((moved.rowCount ?? 0) > 0) actions.push('moved the seq counter up to the highest seq');
  }
  const cleaned = await client.query(
    `UPDATE "${schema}".records SET tags = ARRAY(
        SELECT tag FROM unnest(tags) WITH ORDINALITY AS u(tag, position)
         WHERE tag IS NOT NULL AND btrim(tag) <> '' GROUP BY tag ORDER BY min(position))
      WHERE ${TAGS_NOT_CLEAN}`,
  );
  if ((cleaned.rowCount ?? 0) > 0) actions.push(`dropped empty and repeated tags of ${cleaned.rowCount} record(s)`);
  const strayDeleted = await client.query(
    `DELETE FROM "${schema}".record_versions v WHERE NOT EXISTS (SELECT 1 FROM "${schema}".records r WHERE r.id = v.id AND r.seq > v.seq)`,
  );
  if ((strayDeleted.rowCount ?? 0) > 0) actions.push(`deleted ${strayDeleted.rowCount} version(s) of records that no longer exist, or not older than their record`);
  return actions;
}

/** A record whose tags hold a NULL, an empty or blank string, or the same tag twice. */
const TAGS_NOT_CLEAN = `(array_position(tags, NULL) IS NOT NULL
  OR EXISTS (SELECT 1 FROM unnest(tags) AS t(tag) WHERE btrim(tag) = '')
  OR cardinality(tags) <> (SELECT count(DISTINCT tag) FROM unnest(tags) AS t(tag)))`;
