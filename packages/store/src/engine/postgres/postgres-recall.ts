import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { ValidRecallQuery } from '../../validate-recall.js';
import { millisecondBound } from './postgres-time.js';
import { METADATA_JSONB } from './postgres-schema.js';
import { RECORD_COLUMNS, type PostgresTables, type RecordRow } from './postgres-tables.js';

/**
 * Finds records for recall(): words (any of them, best ts_rank first, ties newest first; rank
 * normalisation 1 divides by the log of the length, so that, as with SQLite's bm25, a short note
 * about a word ranks above a long one that mentions it as often), tags
 * (all of them), a contextPath prefix, layer and time; without words, newest first. The same
 * filters and order as the SQLite engine (sqlite-recall.ts), in PostgreSQL's terms.
 */
export async function findRecords(db: Kysely<PostgresTables>, query: ValidRecallQuery, textSearchConfiguration: string): Promise<(RecordRow & { readonly rank?: number })[]> {
  return recallSelect(db, query, textSearchConfiguration).execute();
}

/** The query findRecords runs, built and not run (a test reads its plan). */
export function recallSelect(db: Kysely<PostgresTables>, query: ValidRecallQuery, textSearchConfiguration: string) {
  let select = db.selectFrom('records').select(RECORD_COLUMNS).$narrowType<{ rank?: number }>();
  if (query.words !== undefined) {
    const words = wordsQuery(query.words, textSearchConfiguration);
    select = select
      .select(sql<number>`ts_rank(content_tsv, ${words}, 1)`.as('rank'))
      .where(sql<boolean>`content_tsv @@ ${words}`)
      // Pinned records first: the matches are sorted whole by rank anyway.
      .orderBy('pinned', 'desc')
      .orderBy(sql`ts_rank(content_tsv, ${words}, 1)`, 'desc');
  }
  if (query.tags.length > 0) select = select.where(sql<boolean>`tags @> ${sql.val([...query.tags])}::text[]`);
  if (query.anyTags.length > 0) select = select.where(sql<boolean>`tags && ${sql.val([...query.anyTags])}::text[]`);
  // Every wanted key and value in one jsonb containment, served by the metadata index (the same
  // expression as the index's): equal when their JSON types and values are (true is not 1, "1" is
  // not 1). A record whose metadata holds a \u0000 escape is in no filter's results (METADATA_JSONB).
  if (query.metadata.length > 0) {
    const wanted = JSON.stringify(Object.fromEntries(query.metadata));
    // A wanted NUL cannot be jsonb either, and no record that holds one is in the index: nothing matches.
    const holdsNul = query.metadata.some(([key, value]) => key.includes('\0') || (typeof value === 'string' && value.includes('\0')));
    select = holdsNul ? select.where(sql<boolean>`false`) : select.where(sql<boolean>`(${sql.raw(METADATA_JSONB)}) @> ${wanted}::jsonb`);
  }
  const prefix = query.contextPath;
  if (prefix !== undefined && prefix !== '/') {
    // context_path is in byte order (COLLATE "C"), where the paths below `p` are exactly those
    // from `p/` up to, not including, `p0` ('0' follows '/'): one index range, and no LIKE, whose
    // % and _ would be wildcards inside the path.
    select = select.where((eb) =>
      eb.or([
        eb('context_path', '=', prefix),
        eb.and([eb('context_path', '>=', `${prefix}/`), eb('context_path', '<', `${prefix}0`)]),
      ]),
    );
  }
  if (query.layer !== undefined) select = select.where('layer', '=', query.layer);
  if (query.pinned !== undefined) select = select.where('pinned', '=', query.pinned);
  // An expired record is not recalled (maintain() archives or forgets it later).
  select = select.where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', query.now)]));
  if (query.since !== undefined) select = select.where('created_at', '>=', millisecondBound(query.since));
  if (query.until !== undefined) select = select.where('created_at', '<', millisecondBound(query.until));
  return select.orderBy('seq', 'desc').limit(query.limit);
}


/**
 * The words as a tsquery that any of them satisfies: each word its own phraseto_tsquery, bound as
 * a parameter, so nothing in a word is ever read as query syntax. A word the parser splits
 * (`foo_bar`) must match as a phrase, as a quoted FTS5 string does in SQLite. Stemmed by the
 * store's configuration (English stems, no stop words). A prefix word (`depl*`) is the one use of
 * to_tsquery's syntax, `:*`, on a word that is only letters, digits and `_` (validate-recall.ts).
 */
function wordsQuery(words: readonly string[], configuration: string): RawBuilder<unknown> {
  return sql`(${sql.join(
    words.map((word) =>
      word.endsWith('*')
        ? sql`to_tsquery(${configuration}::regconfig, ${`${word.slice(0, -1)}:*`})`
        : sql`phraseto_tsquery(${configuration}::regconfig, ${word})`,
    ),
    sql` || `,
  )})`;
}
