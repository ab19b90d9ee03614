import type Database from 'better-sqlite3';
import { sql, type RawBuilder, type SelectQueryBuilder } from 'kysely';
import { PageSizer } from '../../page-sizer.js';
import type { ChosenRecord } from '../store-engine.js';
import type { RecallCandidate } from '../../recall-ranking.js';
import type { MetadataFilterValue, ValidRecallQuery } from '../../validate-recall.js';
import { queryBuilder } from './sqlite-query-builder.js';
import { recordFromRow } from './sqlite-record.js';
import type { RecordRow, StoreTables } from './sqlite-tables.js';

/**
 * A row a recall query found: what ranking reads of it (the whole record where the query read it
 * anyway), and with words its bm25 rank (lower is better).
 */
type FoundRow = Pick<RecordRow, 'seq' | 'pinned' | 'created_at' | 'updated_at' | 'recall_count'> & Partial<RecordRow> & { readonly rank?: number };

/** The columns of a record that ranking reads: all a query of the words reads of its candidates. */
const CANDIDATE_COLUMNS = ['records.seq', 'records.pinned', 'records.created_at', 'records.updated_at', 'records.recall_count'] as const;

/**
 * How many times as many of the best matches the second try reads when some of the first did not
 * pass the filters (pinned ones, read apart; expired ones, not yet archived).
 */
const BEST_MATCHES_WIDENING = 4;

/** A match of the words in the search index: its seq and bm25 rank. */
interface HitTable {
  seq: number;
  rank: number;
}

/** The tables a recall query reads: the store's, and `hit`, the matches of the words as a subquery. */
type RecallTables = StoreTables & { hit: HitTable };

/**
 * Every recall query, typed as if it read all of its tables, so that one function adds the
 * filters on records to each (each query reads `records`; the others only where it names them).
 */
type RecallSelect = SelectQueryBuilder<RecallTables, 'records' | 'records_fts' | 'hit', FoundRow>;

/** A query of matches of the words: seq and rank. */
type HitSelect = SelectQueryBuilder<RecallTables, 'records_fts', HitTable>;

/** How a metadata filter's value is compared: its JSON type, and for a boolean its value (both are in the SQL). */
type MetadataKind = 'null' | 'true' | 'false' | 'number' | 'text';

/**
 * What a recall query's SQL depends on: which filters are given (and how many tags), never their
 * values, which are bound as named parameters (RecallParameters). The statements are built and
 * prepared once per shape and kind of query; a recall only binds its values.
 */
interface RecallShape {
  readonly words: boolean;
  readonly tags: number;
  readonly anyTags: number;
  readonly metadata: readonly MetadataKind[];
  readonly contextPath: boolean;
  readonly layer: boolean;
  readonly pinned: boolean | undefined;
  readonly since: boolean;
  readonly until: boolean;
  /** Whether the search index is read only up to a seq (the records above it are the tail). */
  readonly through: boolean;
}

/** The values a recall binds, by name: `@name` in the SQL. A statement ignores those it does not name. */
type RecallParameters = Record<string, string | number>;

/** `@name` in the SQL: a named parameter, bound from RecallParameters. */
function parameter<T>(name: string): RawBuilder<T> {
  return sql.raw<T>(`@${name}`);
}

/**
 * Finds records for recall(): full-text (FTS5, best bm25 first), tags (all of them), a
 * contextPath prefix, layer and time. Without words, the most recent first.
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
  /** Prepared statements by kind and shape (RecallShape). */
  readonly #statements = new Map<string, Database.Statement<[RecallParameters], FoundRow>>();
  #anyPinned: Database.Statement<[], number> | undefined;
  #recordBySeq: Database.Statement<unknown[], RecordRow> | undefined;
  #tailTable: TailTable | undefined;

  constructor(db: Database.Database) {
    this.#db = db;
  }

  /**
   * The candidates for the query (at most `query.limit`: pinned first, then best bm25 first with
   * words, newest first without), given to `choose`, then the whole records of those it chose, in
   * its order: all in one read transaction, so the records are those the candidates were.
   */
  recall<T extends { readonly seq: number }>(
    query: ValidRecallQuery,
    unindexedAfter: number | undefined,
    choose: (candidates: readonly RecallCandidate[]) => readonly T[],
  ): ChosenRecord<T>[] {
    return this.#db
      .transaction(() => {
        const found = this.#find(query, unindexedAfter);
        const bySeq = new Map(found.map((row) => [row.seq, row]));
        return choose(found.map(candidateOfRow)).map((chosen) => ({ chosen, record: recordFromRow(this.#wholeRecord(bySeq.get(chosen.seq), chosen.seq)) }));
      })
      .deferred();
  }

  #find(query: ValidRecallQuery, unindexedAfter: number | undefined): FoundRow[] {
    // Records above `through` are not in the search index yet: searched apart, as the tail.
    const through = usesSearchIndex(query) ? unindexedAfter : undefined;
    const shape = shapeOf(query, through !== undefined);
    const parameters = parametersOf(query, through);
    const indexed = shape.words ? this.#byWords(shape, parameters, query.limit) : this.#run('listed', shape, parameters, listed);
    if (through === undefined) return indexed;
    if (shape.words) this.#tailTableFor(through);
    return mergeFound(indexed, this.#run('tail', shape, parameters, tail), query);
  }

  /** The whole record of a candidate: the row found, if its query read it whole, else read by seq. */
  #wholeRecord(found: FoundRow | undefined, seq: number): RecordRow {
    if (found !== undefined && found.content !== undefined) return found as RecordRow;
    this.#recordBySeq ??= this.#db.prepare(queryBuilder.selectFrom('records').selectAll().where('seq', '=', 0).compile().sql);
    const row = this.#recordBySeq.get(seq);
    // Found in this read transaction, so there.
    if (row === undefined) throw new Error(`memhub: record seq ${seq} found by recall is not in the records`);
    return row;
  }

  /**
   * The best matches of the words in the search index (seq up to `through`, if given): the
   * pinned ones first, then the rest, each best bm25 first (ties newest first), `limit` in all.
   *
   * Every match must be scored (bm25 needs the whole match list), but reading each match's record
   * costs more than scoring it, so records are read only where the order needs them:
   * - the pinned matches through the partial index of pinned seqs, which holds only them (and is
   *   skipped when no record is pinned);
   * - the rest, when no filter but expiry narrows by a record's columns, from the best bm25
   *   matches alone: as many as wanted, their records read and filtered; if some do not pass (a
   *   pinned or expired record among them, or fewer matches than that), BEST_MATCHES_WIDENING
   *   times as many; if still too few pass, every match with its record;
   * - the rest under a scope, layer, time or metadata filter, which may pass few of the best
   *   matches, from every match with its record straight away.
   */
  #byWords(shape: RecallShape, parameters: RecallParameters, limit: number): FoundRow[] {
    const pinned = shape.pinned !== false && this.#hasPinned() ? this.#run('pinned', { ...shape, pinned: true }, parameters, pinnedMatches) : [];
    if (shape.pinned === true || pinned.length >= limit) return pinned;
    const rest = { ...shape, pinned: false };
    const wanted = limit - pinned.length;
    if (!narrowsByRecordColumns(shape)) {
      for (const considered of [wanted, wanted * BEST_MATCHES_WIDENING]) {
        const best = this.#run('best', rest, { ...parameters, limit: wanted, considered }, bestMatchesFiltered);
        if (best.length === wanted) return [...pinned, ...best];
      }
    }
    return [...pinned, ...this.#run('every', rest, { ...parameters, limit: wanted }, everyMatchFiltered)];
  }

  /** Whether any record is pinned: one entry of the partial index of pinned seqs, or none. */
  #hasPinned(): boolean {
    this.#anyPinned ??= this.#db.prepare<[], number>('SELECT EXISTS (SELECT 1 FROM records WHERE pinned = 1)').pluck();
    return this.#anyPinned.get() === 1;
  }

  /** The temporary FTS5 table holding the tail's records (seq above `after`), filled for this recall. */
  #tailTableFor(after: number): TailTable {
    this.#tailTable ??= TailTable.create(this.#db);
    this.#tailTable.fill(after);
    return this.#tailTable;
  }

  /** Runs the statement of this kind and shape, built and prepared on its first use. */
  #run(kind: string, shape: RecallShape, parameters: RecallParameters, build: (shape: RecallShape) => RecallSelect): FoundRow[] {
    const key = `${kind} ${JSON.stringify(shape)}`;
    let statement = this.#statements.get(key);
    if (statement === undefined) {
      statement = this.#db.prepare<[RecallParameters], FoundRow>(build(shape).compile().sql);
      this.#statements.set(key, statement);
    }
    return statement.all(parameters);
  }
}

function shapeOf(query: ValidRecallQuery, through: boolean): RecallShape {
  return {
    words: query.words !== undefined,
    tags: query.tags.length,
    anyTags: query.anyTags.length,
    metadata: query.metadata.map(([, value]) => metadataKindOf(value)),
    contextPath: query.contextPath !== undefined && query.contextPath !== '/',
    layer: query.layer !== undefined,
    pinned: query.pinned,
    since: query.since !== undefined,
    until: query.until !== undefined,
    through,
  };
}

function metadataKindOf(value: MetadataFilterValue): MetadataKind {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return typeof value === 'number' ? 'number' : 'text';
}

/** The query's values, by the names the statements use. */
function parametersOf(query: ValidRecallQuery, through: number | undefined): RecallParameters {
  const parameters: RecallParameters = { now: query.now, limit: query.limit };
  if (query.words !== undefined) parameters.match = matchExpression(query.words);
  if (through !== undefined) parameters.through = through;
  query.tags.forEach((tag, index) => (parameters[`tag${index}`] = tag));
  query.anyTags.forEach((tag, index) => (parameters[`anyTag${index}`] = tag));
  query.metadata.forEach(([key, value], index) => {
    parameters[`metadataKey${index}`] = key;
    if (typeof value === 'string' || typeof value === 'number') parameters[`metadataValue${index}`] = value;
  });
  const prefix = query.contextPath;
  if (prefix !== undefined && prefix !== '/') {
    // The path itself, or below it: from `p/` up to (not including) `p0`, '0' being the character after '/'.
    parameters.path = prefix;
    parameters.below = `${prefix}/`;
    parameters.after = `${prefix}0`;
  }
  if (query.layer !== undefined) parameters.layer = query.layer;
  if (query.since !== undefined) parameters.since = query.since;
  if (query.until !== undefined) parameters.until = query.until;
  return parameters;
}

/** `@tag0, @tag1, ...`: a list of `count` named parameters. */
function parameterList(prefix: string, count: number): RawBuilder<unknown> {
  return sql.join(Array.from({ length: count }, (_, index) => parameter(`${prefix}${index}`)));
}

/** Without words: the records newest first, through the indexes on records (tags through the search index's). */
function listed(shape: RecallShape): RecallSelect {
  let select = queryBuilder.selectFrom('records').selectAll('records') as unknown as RecallSelect;
  if (shape.through) select = select.where('records.seq', '<=', parameter<number>('through'));
  if (shape.tags > 0) {
    const tagged = queryBuilder
      .selectFrom('record_tags')
      .select('record_seq')
      .where(sql<boolean>`tag IN (${parameterList('tag', shape.tags)})`)
      .groupBy('record_seq')
      .having(sql`count(*)`, '=', sql.lit(shape.tags));
    select = select.where('records.seq', 'in', tagged);
  }
  if (shape.anyTags > 0) {
    select = select.where('records.seq', 'in', queryBuilder.selectFrom('record_tags').select('record_seq').where(sql<boolean>`tag IN (${parameterList('anyTag', shape.anyTags)})`));
  }
  return withRecordFilters(select, shape).orderBy('records.seq', 'desc').limit(parameter<number>('limit'));
}

/** The same query over the unindexed tail (seq above `@through`): words in the temporary FTS5 table of the tail, tags in each record's JSON. */
function tail(shape: RecallShape): RecallSelect {
  let select = queryBuilder.selectFrom('records').selectAll('records').where('records.seq', '>', parameter<number>('through')) as unknown as RecallSelect;
  if (shape.words) {
    const match = parameter<string>('match');
    const rank = sql<number>`(SELECT bm25(memhub_tail_fts) FROM temp.memhub_tail_fts WHERE memhub_tail_fts MATCH ${match} AND rowid = records.seq)`;
    select = select
      .select(rank.as('rank'))
      .where(sql<boolean>`records.seq IN (SELECT rowid FROM temp.memhub_tail_fts WHERE memhub_tail_fts MATCH ${match})`)
      .orderBy('records.pinned', 'desc')
      .orderBy(sql`rank`);
  }
  if (shape.tags > 0) {
    select = select.where(sql<number>`(SELECT count(DISTINCT value) FROM json_each(records.tags) WHERE value IN (${parameterList('tag', shape.tags)}))`, '=', sql.lit(shape.tags));
  }
  if (shape.anyTags > 0) {
    select = select.where(sql<boolean>`EXISTS (SELECT 1 FROM json_each(records.tags) WHERE value IN (${parameterList('anyTag', shape.anyTags)}))`);
  }
  return withRecordFilters(select, shape).orderBy('records.seq', 'desc').limit(parameter<number>('limit'));
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

/** What ranking reads of a row found. */
function candidateOfRow(row: FoundRow): RecallCandidate {
  return {
    seq: row.seq,
    pinned: row.pinned === 1,
    writtenAt: row.updated_at ?? row.created_at,
    recallCount: row.recall_count,
    // bm25 is lower for a better match: its negation is the relevance.
    relevance: row.rank === undefined ? undefined : -row.rank,
  };
}

/**
 * The search index's matches of the words (seq up to `@through`, if the shape says so) with their
 * bm25, and the tag filters, which the search index answers too: each tag of all-of a lookup of
 * its (tag, seq) key, any-of one lookup per tag.
 */
function matchesOf(shape: RecallShape): HitSelect {
  let select = queryBuilder
    .selectFrom('records_fts')
    .select([sql<number>`records_fts.rowid`.as('seq'), sql<number>`bm25(records_fts)`.as('rank')])
    .where(sql<boolean>`records_fts MATCH ${parameter('match')}`);
  if (shape.through) select = select.where(sql<boolean>`records_fts.rowid <= ${parameter('through')}`);
  for (let index = 0; index < shape.tags; index += 1) {
    select = select.where(sql<boolean>`EXISTS (SELECT 1 FROM record_tags WHERE tag = ${parameter(`tag${index}`)} AND record_seq = records_fts.rowid)`);
  }
  if (shape.anyTags > 0) {
    select = select.where(sql<boolean>`EXISTS (SELECT 1 FROM record_tags WHERE tag IN (${parameterList('anyTag', shape.anyTags)}) AND record_seq = records_fts.rowid)`);
  }
  return select;
}

/**
 * The records of some matches (`hits`: seq and rank), best first, reading of each only what
 * ranking reads (CANDIDATE_COLUMNS), and for the hits alone: the hits must not be flattened into
 * this join, or the planner reads each match's record before the hits' own filters (a pinned
 * match, a tag) have ruled it out, ten times the work on a frequent word. Hits with an ORDER BY
 * and LIMIT are never flattened into a join (and run as a co-routine, the cheaper form); any other
 * hits are made a MATERIALIZED common table expression, SQLite's documented way to keep a
 * subquery whole.
 */
function recordsOfHits(hits: HitSelect, { limited }: { limited: boolean }): RecallSelect {
  const from = limited ? queryBuilder.selectFrom(hits.as('hit')) : queryBuilder.with((cte) => cte('hit').materialized(), () => hits).selectFrom('hit');
  const select = from.innerJoin('records', 'records.seq', 'hit.seq').select([...CANDIDATE_COLUMNS, 'hit.rank']) as unknown as RecallSelect;
  return select.orderBy('hit.rank').orderBy('hit.seq', 'desc').limit(parameter<number>('limit'));
}

/**
 * The pinned matches: every match checked against the partial index of pinned seqs (a join that
 * reads only that index, as small as the pinned records are few), then the records of those.
 */
function pinnedMatches(shape: RecallShape): RecallSelect {
  const pinnedHits = matchesOf(shape)
    .innerJoin('records as pin', (join) => join.on(sql<boolean>`pin.seq = records_fts.rowid`))
    // A literal, so that the planner knows the partial index (WHERE pinned = 1) holds every row this wants.
    .where('pin.pinned', '=', sql.lit(1));
  return withRecordFilters(recordsOfHits(pinnedHits as unknown as HitSelect, { limited: false }), shape);
}

/**
 * The best `@considered` matches by bm25 alone (ties newest first), then their records, filtered:
 * if `@limit` of them pass, those are the best of every match that passes.
 */
function bestMatchesFiltered(shape: RecallShape): RecallSelect {
  const best = matchesOf(shape).orderBy(sql`bm25(records_fts)`).orderBy(sql`records_fts.rowid`, 'desc').limit(parameter<number>('considered'));
  return withRecordFilters(recordsOfHits(best, { limited: true }), shape);
}

/**
 * Every match joined with its record and filtered before the limit; only the seq and rank of the
 * best go on to the outer query, which reads their candidate columns (the sort never holds more).
 */
function everyMatchFiltered(shape: RecallShape): RecallSelect {
  const joined = matchesOf(shape).innerJoin('records', (join) => join.on(sql<boolean>`records.seq = records_fts.rowid`));
  const best = withRecordFilters(joined as unknown as SelectQueryBuilder<RecallTables, 'records' | 'records_fts' | 'hit', HitTable>, shape)
    .orderBy(sql`bm25(records_fts)`)
    .orderBy(sql`records_fts.rowid`, 'desc')
    .limit(parameter<number>('limit'));
  return recordsOfHits(best as unknown as HitSelect, { limited: true });
}

/** Whether the query filters on a record's columns (beyond expiry and pinned): a scope, layer, time or metadata. Such a filter may pass few of the best matches. */
function narrowsByRecordColumns(shape: RecallShape): boolean {
  return shape.contextPath || shape.layer || shape.since || shape.until || shape.metadata.length > 0;
}

/** The filters on the columns of `records`. */
function withRecordFilters<O>(
  select: SelectQueryBuilder<RecallTables, 'records' | 'records_fts' | 'hit', O>,
  shape: RecallShape,
): SelectQueryBuilder<RecallTables, 'records' | 'records_fts' | 'hit', O> {
  let filtered = select;
  if (shape.contextPath) {
    // The path itself, or a range of the index on context_path (see parametersOf). Not LIKE: LIKE
    // ignores ASCII case and treats % and _ in the path as wildcards.
    filtered = filtered.where((eb) =>
      eb.or([
        eb('records.context_path', '=', parameter<string>('path')),
        eb.and([eb('records.context_path', '>=', parameter<string>('below')), eb('records.context_path', '<', parameter<string>('after'))]),
      ]),
    );
  }
  if (shape.layer) filtered = filtered.where('records.layer', '=', parameter<string>('layer'));
  if (shape.pinned !== undefined) filtered = filtered.where('records.pinned', '=', sql.lit(shape.pinned ? 1 : 0));
  // An expired record is not recalled (maintain() archives or forgets it later).
  filtered = filtered.where((eb) => eb.or([eb('records.expires_at', 'is', null), eb('records.expires_at', '>', parameter<number>('now'))]));
  if (shape.since) filtered = filtered.where('records.created_at', '>=', parameter<number>('since'));
  if (shape.until) filtered = filtered.where('records.created_at', '<', parameter<number>('until'));
  shape.metadata.forEach((kind, index) => (filtered = filtered.where(metadataHas(index, kind))));
  return filtered;
}

/**
 * The record's metadata has the filter's top-level key (`@metadataKey<index>`) with its value,
 * JSON types included: through json_each, so that any key is compared as a string (no JSON path
 * to quote), and `true` never equals 1 (SQLite's json_extract gives both as 1).
 */
function metadataHas(index: number, kind: MetadataKind): RawBuilder<boolean> {
  const value = parameter(`metadataValue${index}`);
  let matches: RawBuilder<boolean>;
  if (kind === 'null' || kind === 'true' || kind === 'false') matches = sql<boolean>`m.type = ${sql.lit(kind)}`;
  else if (kind === 'number') matches = sql<boolean>`m.type IN ('integer', 'real') AND m.atom = ${value}`;
  else matches = sql<boolean>`m.type = 'text' AND m.atom = ${value}`;
  return sql<boolean>`EXISTS (SELECT 1 FROM json_each(records.metadata) AS m WHERE m.key = ${parameter(`metadataKey${index}`)} AND ${matches})`;
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
