import type Database from 'better-sqlite3';
import { sql } from 'kysely';
import type { ValidRecallQuery } from '../../validate-recall.js';
import { queryBuilder } from './sqlite-query-builder.js';
import type { RecordRow } from './sqlite-tables.js';

/**
 * Finds records for recall(): full-text (FTS5, best bm25 first), tags (all of them), a
 * contextPath prefix, layer and time. Without words, the most recent first. The SQL varies only
 * with which filters are given, so prepared statements are cached by their text.
 */
export class SqliteRecall {
  readonly #db: Database.Database;
  readonly #statements = new Map<string, Database.Statement<unknown[], RecordRow>>();

  constructor(db: Database.Database) {
    this.#db = db;
  }

  find(query: ValidRecallQuery): RecordRow[] {
    let select = queryBuilder.selectFrom('records').selectAll('records');
    if (query.words !== undefined) {
      // Each word quoted: FTS5 then matches it as text, never as query syntax; any word may match.
      const match = query.words.map((word) => `"${word}"`).join(' OR ');
      select = select
        .innerJoin('records_fts', 'records_fts.rowid', 'records.seq')
        .where(sql<boolean>`records_fts MATCH ${match}`)
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
    const prefix = query.contextPath;
    if (prefix !== undefined && prefix !== '/') {
      // The path itself, or a range of the index on context_path: every path below `/a/b` sorts
      // from `/a/b/` up to (not including) `/a/b0`, since '0' is the character after '/'. Not LIKE:
      // LIKE ignores ASCII case and treats % and _ in the path as wildcards.
      select = select.where((eb) =>
        eb.or([
          eb('records.context_path', '=', prefix),
          eb.and([eb('records.context_path', '>=', `${prefix}/`), eb('records.context_path', '<', `${prefix}0`)]),
        ]),
      );
    }
    if (query.layer !== undefined) select = select.where('records.layer', '=', query.layer);
    if (query.since !== undefined) select = select.where('records.created_at', '>=', query.since);
    if (query.until !== undefined) select = select.where('records.created_at', '<', query.until);
    const compiled = select.orderBy('records.seq', 'desc').limit(query.limit).compile();
    let statement = this.#statements.get(compiled.sql);
    if (statement === undefined) {
      statement = this.#db.prepare(compiled.sql);
      this.#statements.set(compiled.sql, statement);
    }
    return statement.all(...compiled.parameters);
  }
}
