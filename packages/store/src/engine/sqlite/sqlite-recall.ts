import type Database from 'better-sqlite3';
import { sql, type RawBuilder, type SelectQueryBuilder } from 'kysely';
import { PageSizer } from '../../page-sizer.js';
import type { MetadataFilterValue, ValidRecallQuery } from '../../validate-recall.js';
import { queryBuilder } from './sqlite-query-builder.js';
import type { RecordRow, StoreTables } from './sqlite-tables.js';

/** A row found by words carries its bm25 rank (lower is better), to merge the index's hits with the tail's. */
type FoundRow = RecordRow & { readonly rank?: number };

/**
 * Finds records for recall(): full-text (FTS5, best bm25 first), tags (all of them), a
 * contextPath prefix, layer and time. Without words, the most recent first. The SQL varies only
 * with which filters are given, so prepared statements are cached by their text.
 *
 * Runs on the search index's reader, where memory.db is attached. Words and tags are looked up in
 * the search index, which follows the records in batches (see SqliteSearchDatabase). Given `unindexedAfter`, the records above that seq are not indexed yet and
 * are searched directly: their words in a temporary FTS5 table of this connection built from
 * them (the same tokenizer: a temporary table is written without any lock on the database), their
 * tags in their own JSON, and the two lists merged by rank. The tail's bm25 is computed over the
 * tail alone, so its hits rank only roughly among the index's: this happens only while another
 * process keeps the write lock from the recall that would index the tail (see SqliteEngine.recall).
 */
export class SqliteRecall {
  readonly #db: Database.Database;
  readonly #statements = new Map<string, Database.Statement<unknown[], FoundRow>>();
  #tailTable: TailTable | undefined;

  constructor(db: Database.Database) {
    this.#db = db;
  }

  find(query: ValidRecallQuery, unindexedAfter?: number): FoundRow[] {
    if (unindexedAfter === undefined || !usesSearchIndex(query)) return this.#run(this.#indexed(query));
    // One read transaction: the index's part and the tail's are the same snapshot.
    return this.#db
      .transaction(() => {
        const indexed = this.#run(this.#indexed(query).where('records.seq', '<=', unindexedAfter));
        const tail = this.#run(this.#tail(query, unindexedAfter));
        return mergeFound(indexed, tail, query);
      })
      .deferred();
  }

  /** The query against the search index. */
  #indexed(query: ValidRecallQuery): SelectQueryBuilder<StoreTables, 'records' | 'records_fts', FoundRow> {
    let select = queryBuilder.selectFrom('records').selectAll('records') as unknown as SelectQueryBuilder<StoreTables, 'records' | 'records_fts', FoundRow>;
    if (query.words !== undefined) {
      // Pinned records first: the words' matches are sorted whole anyway (by bm25), so the extra key costs nothing.
      select = select
        .innerJoin('records_fts', 'records_fts.rowid', 'records.seq')
        .orderBy('records.pinned', 'desc')
        .select(sql<number>`bm25(records_fts)`.as('rank'))
        .where(sql<boolean>`records_fts MATCH ${matchExpression(query.words)}`)
        .orderBy(sql`bm25(records_fts)`);
    }
    if (query.tags.length > 0) {
      const tagged = queryBuilder
        .selectFrom('record_tags')
        .select('record_seq')
        .where('tag', 'in', [...query.tags])
        .groupBy('record_seq')
        .having(sql`count(*)`, '=', query.tags.length);
      select = select.where('records.seq', 'in', tagged);
    }
    if (query.anyTags.length > 0) {
      select = select.where('records.seq', 'in', queryBuilder.selectFrom('record_tags').select('record_seq').where('tag', 'in', [...query.anyTags]));
    }
    return withRecordFilters(select, query);
  }

  /** The same query over the unindexed tail: words in a temporary FTS5 table of the tail, tags in each record's JSON. */
  #tail(query: ValidRecallQuery, after: number): SelectQueryBuilder<StoreTables, 'records' | 'records_fts', FoundRow> {
    let select = queryBuilder.selectFrom('records').selectAll('records').where('records.seq', '>', after) as unknown as SelectQueryBuilder<
      StoreTables,
      'records' | 'records_fts',
      FoundRow
    >;
    if (query.words !== undefined) {
      this.#tailTableFor(after);
      const match = matchExpression(query.words);
      const rank = sql<number>`(SELECT bm25(memhub_tail_fts) FROM temp.memhub_tail_fts WHERE memhub_tail_fts MATCH ${match} AND rowid = records.seq)`;
      select = select
        .select(rank.as('rank'))
        .where(sql<boolean>`records.seq IN (SELECT rowid FROM temp.memhub_tail_fts WHERE memhub_tail_fts MATCH ${match})`)
        .orderBy('records.pinned', 'desc')
        .orderBy(sql`rank`);
    }
    if (query.tags.length > 0) {
      select = select.where(
        sql<number>`(SELECT count(DISTINCT value) FROM json_each(records.tags) WHERE value IN (${sql.join([...query.tags])}))`,
        '=',
        query.tags.length,
      );
    }
    if (query.anyTags.length > 0) {
      select = select.where(sql<boolean>`EXISTS (SELECT 1 FROM json_each(records.tags) WHERE value IN (${sql.join([...query.anyTags])}))`);
    }
    return withRecordFilters(select, query);
  }

  /** The temporary FTS5 table holding the tail's records (seq above `after`), filled for this recall. */
  #tailTableFor(after: number): TailTable {
    this.#tailTable ??= TailTable.create(this.#db);
    this.#tailTable.fill(after);
    return this.#tailTable;
  }

  #run(select: SelectQueryBuilder<StoreTables, 'records' | 'records_fts', FoundRow>): FoundRow[] {
    const compiled = select.compile();
    let statement = this.#statements.get(compiled.sql);
    if (statement === undefined) {
      statement = this.#db.prepare(compiled.sql);
      this.#statements.set(compiled.sql, statement);
    }
    return statement.all(...compiled.parameters);
  }
}

/** Each word quoted: FTS5 then matches it as text, never as query syntax; any word may match. */
function matchExpression(words: readonly string[]): string {
  // Each word a quoted FTS5 string (nothing in it read as syntax), a prefix one followed by `*`.
  return words.map((word) => (word.endsWith('*') ? `"${word.slice(0, -1)}"*` : `"${word}"`)).join(' OR ');
}

/**
 * Whether the query looks anything up in the search index (records_fts for words, record_tags for
 * tags): then the unindexed tail must be indexed first, or searched directly.
 */
export function usesSearchIndex(query: ValidRecallQuery): boolean {
  return query.words !== undefined || query.tags.length > 0 || query.anyTags.length > 0;
}

/** The filters that are columns of `records`, the tie-break on seq, and the limit. */
function withRecordFilters<O>(
  select: SelectQueryBuilder<StoreTables, 'records' | 'records_fts', O>,
  query: ValidRecallQuery,
): SelectQueryBuilder<StoreTables, 'records' | 'records_fts', O> {
  let filtered = select;
  const prefix = query.contextPath;
  if (prefix !== undefined && prefix !== '/') {
    // The path itself, or a range of the index on context_path: every path below `/a/b` sorts
    // from `/a/b/` up to (not including) `/a/b0`, since '0' is the character after '/'. Not LIKE:
    // LIKE ignores ASCII case and treats % and _ in the path as wildcards.
    filtered = filtered.where((eb) =>
      eb.or([
        eb('records.context_path', '=', prefix),
        eb.and([eb('records.context_path', '>=', `${prefix}/`), eb('records.context_path', '<', `${prefix}0`)]),
      ]),
    );
  }
  if (query.layer !== undefined) filtered = filtered.where('records.layer', '=', query.layer);
  if (query.pinned !== undefined) filtered = filtered.where('records.pinned', '=', query.pinned ? 1 : 0);
  // An expired record is not recalled (maintain() archives or forgets it later).
  filtered = filtered.where((eb) => eb.or([eb('records.expires_at', 'is', null), eb('records.expires_at', '>', query.now)]));
  if (query.since !== undefined) filtered = filtered.where('records.created_at', '>=', query.since);
  if (query.until !== undefined) filtered = filtered.where('records.created_at', '<', query.until);
  for (const [key, value] of query.metadata) filtered = filtered.where(metadataHas(key, value));
  return filtered.orderBy('records.seq', 'desc').limit(query.limit);
}

/**
 * The record's metadata has this top-level key with this value, JSON types included: through
 * json_each, so that any key is compared as a string (no JSON path to quote), and `true` never
 * equals 1 (SQLite's json_extract gives both as 1).
 */
function metadataHas(key: string, value: MetadataFilterValue): RawBuilder<boolean> {
  let matches: RawBuilder<boolean>;
  if (value === null) matches = sql<boolean>`m.type = 'null'`;
  else if (typeof value === 'boolean') matches = sql<boolean>`m.type = ${value ? 'true' : 'false'}`;
  else if (typeof value === 'number') matches = sql<boolean>`m.type IN ('integer', 'real') AND m.atom = ${value}`;
  else matches = sql<boolean>`m.type = 'text' AND m.atom = ${value}`;
  return sql<boolean>`EXISTS (SELECT 1 FROM json_each(records.metadata) AS m WHERE m.key = ${key} AND ${matches})`;
}

/** The index's hits and the tail's, best first (by rank with words, newest first without), cut to the limit. */
function mergeFound(indexed: FoundRow[], tail: FoundRow[], query: ValidRecallQuery): FoundRow[] {
  const all = [...tail, ...indexed];
  all.sort((a, b) => (query.words !== undefined ? b.pinned - a.pinned || (a.rank ?? 0) - (b.rank ?? 0) : 0) || b.seq - a.seq);
  return all.slice(0, query.limit);
}

/**
 * A temporary, contentless FTS5 table of this connection with the tokenizer of `records_fts`,
 * holding the unindexed tail's records for one recall. Temporary tables are this connection's
 * own: filling one takes no lock on the database, so a recall can search the tail while another
 * process holds the search index's lock.
 */
class TailTable {
  readonly #clear: Database.Statement;
  readonly #insert: Database.Statement<{ seq: number; content: string }, never>;
  readonly #page: Database.Statement<{ after: number; limit: number }, { seq: number; content: string }>;

  private constructor(db: Database.Database) {
    this.#clear = db.prepare(`INSERT INTO temp.memhub_tail_fts (memhub_tail_fts) VALUES ('delete-all')`);
    this.#insert = db.prepare('INSERT INTO temp.memhub_tail_fts (rowid, content) VALUES (@seq, @content)');
    this.#page = db.prepare('SELECT seq, content FROM records WHERE seq > @after ORDER BY seq LIMIT @limit');
  }

  static create(db: Database.Database): TailTable {
    const definition = String(db.prepare(`SELECT sql FROM sqlite_schema WHERE name = 'records_fts'`).pluck().get() ?? '');
    const tokenize = /tokenize\s*=\s*('(?:[^']|'')*'|"[^"]*")/i.exec(definition)?.[1];
    db.exec(`CREATE VIRTUAL TABLE IF NOT EXISTS temp.memhub_tail_fts USING fts5 (content, content = ''${tokenize === undefined ? '' : `, tokenize = ${tokenize}`})`);
    return new TailTable(db);
  }

  /** Empties the table, then puts in every record above `after`, a page at a time. */
  fill(after: number): void {
    this.#clear.run();
    const pages = new PageSizer();
    for (let from = after; ; ) {
      const limit = pages.size;
      const page = this.#page.all({ after: from, limit });
      for (const row of page) this.#insert.run(row);
      pages.measured(page.length, page.reduce((chars, row) => chars + row.content.length, 0));
      if (page.length < limit) return;
      from = (page[page.length - 1] as (typeof page)[number]).seq;
    }
  }
}
