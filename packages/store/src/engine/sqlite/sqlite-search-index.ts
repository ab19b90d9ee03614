import type Database from 'better-sqlite3';
import { sql } from 'kysely';
import { PageSizer } from '../../page-sizer.js';
import { queryBuilder } from './sqlite-query-builder.js';

/**
 * The search index, `records_fts` (FTS5) and `record_tags`, is a view of `records` that follows
 * them by seq, like the layer mirrors: `view_cursors.through` for the view `search` says that every
 * record with a seq up to it is indexed; the records above it are the unindexed tail.
 *
 * Why: writing a record's FTS5 segment and tag rows inside its own small write transaction was
 * most of that transaction's cost (one record a transaction, memhub's schema, bare better-sqlite3:
 * 4,650 records/s with them, 10,000/s without, and the same records indexed afterwards in one
 * batch at 112,000/s). So a write transaction holds the records, their seqs and the mirror journal,
 * and the tail is indexed in one batch, inside a write transaction that is being paid for anyway,
 * once it reaches INDEX_BATCH_SEQS or its oldest record is INDEX_AFTER_MS old; and whenever a
 * reader needs it (recall brings it up to date first), on flush() and on close().
 *
 * Forgetting a record that is indexed removes its FTS5 entry at once, in the forget's own
 * transaction (an external-content FTS5 table must be told the old content to delete an entry,
 * and the row is gone afterwards); a record forgotten while still in the tail was never indexed,
 * and nothing is sent (a 'delete' for an entry that is not there corrupts the index). Its tag rows
 * go with it either way (ON DELETE CASCADE).
 *
 * Every method runs inside the caller's transaction: the catch-ups inside a write transaction
 * (under the store's write lock), the reads in any.
 */
export class SqliteSearchIndex {
  readonly #through: Database.Statement<unknown[], number>;
  readonly #setThrough: Database.Statement<{ through: number }, never>;
  readonly #tail: Database.Statement<{ after: number; limit: number }, { seq: number; content: string; tags: string }>;
  readonly #firstUnindexed: Database.Statement<{ after: number }, { seq: number; created_at: number }>;
  readonly #lastRecordSeq: Database.Statement<unknown[], number | null>;
  readonly #unindexedCount: Database.Statement<{ after: number }, number>;
  readonly #index: Database.Statement<{ seq: number; content: string }, never>;
  readonly #unindex: Database.Statement<{ seq: number; content: string }, never>;
  readonly #tag: Database.Statement<{ seq: number; tags: string }, never>;

  constructor(db: Database.Database) {
    this.#through = db
      .prepare(queryBuilder.selectFrom('view_cursors').select('through').where('view', '=', sql.lit('search')).compile().sql)
      .pluck() as Database.Statement<unknown[], number>;
    this.#setThrough = db.prepare(`UPDATE view_cursors SET through = @through WHERE view = 'search' AND through < @through`);
    this.#tail = db.prepare('SELECT seq, content, tags FROM records WHERE seq > @after ORDER BY seq LIMIT @limit');
    this.#firstUnindexed = db.prepare('SELECT seq, created_at FROM records WHERE seq > @after ORDER BY seq LIMIT 1');
    this.#lastRecordSeq = db.prepare('SELECT max(seq) FROM records').pluck() as Database.Statement<unknown[], number | null>;
    this.#unindexedCount = db.prepare('SELECT count(*) FROM records WHERE seq > @after').pluck() as Database.Statement<{ after: number }, number>;
    this.#index = db.prepare('INSERT INTO records_fts (rowid, content) VALUES (@seq, @content)');
    // FTS5's delete command for an external-content table: the entry's old content, by rowid.
    this.#unindex = db.prepare(`INSERT INTO records_fts (records_fts, rowid, content) VALUES ('delete', @seq, @content)`);
    // The tags as the record keeps them (a JSON array, deduplicated on the way in).
    this.#tag = db.prepare('INSERT OR IGNORE INTO record_tags (tag, record_seq) SELECT value, @seq FROM json_each(@tags)');
  }

  /** Every record with a seq up to this is indexed. */
  through(): number {
    return this.#through.get() as number;
  }

  /** How many records are not indexed yet. */
  unindexedRecords(): number {
    return this.#unindexedCount.get({ after: this.through() }) as number;
  }

  /** Whether some record is not indexed yet. */
  isBehind(): boolean {
    return this.#firstUnindexed.get({ after: this.through() }) !== undefined;
  }

  /**
   * Whether a write transaction that brings the store to `lastSeq` at `now` (epoch ms) should
   * index the tail too: it is INDEX_BATCH_SEQS long, or its oldest record INDEX_AFTER_MS old.
   */
  isDue(lastSeq: number, now: number): boolean {
    const through = this.through();
    if (lastSeq - through >= INDEX_BATCH_SEQS) return true;
    const first = this.#firstUnindexed.get({ after: through });
    return first !== undefined && now - first.created_at >= INDEX_AFTER_MS;
  }

  /**
   * Inside a write transaction: indexes every record above the cursor, a page at a time, and moves
   * the cursor to `upTo` (the store's last seq, or the last record's when not given). With
   * `maxChars`, stops after the page that reaches that much content, the cursor at its last record
   * (a rebuild indexes a whole store in transactions of bounded size). Returns how many records it
   * indexed.
   */
  catchUp(upTo?: number, maxChars = Number.POSITIVE_INFINITY): number {
    let after = this.through();
    let indexed = 0;
    let totalChars = 0;
    const pages = new PageSizer();
    for (;;) {
      const limit = pages.size;
      const page = this.#tail.all({ after, limit });
      let chars = 0;
      // The tag rows first, then the FTS5 entries: an INSERT ... SELECT runs in a statement
      // savepoint, and FTS5 flushes its pending entries at every savepoint. Interleaved, each
      // record became a segment of its own, and indexing cost four times as much (23 µs a record
      // against 6, 256 records a batch, bare better-sqlite3).
      for (const row of page) this.#tag.run({ seq: row.seq, tags: row.tags });
      for (const row of page) {
        this.#index.run({ seq: row.seq, content: row.content });
        chars += row.content.length;
      }
      pages.measured(page.length, chars);
      indexed += page.length;
      totalChars += chars;
      if (page.length > 0) after = (page[page.length - 1] as (typeof page)[number]).seq;
      if (page.length < limit) break;
      if (totalChars >= maxChars) {
        this.#setThrough.run({ through: after });
        return indexed;
      }
    }
    const target = upTo ?? this.#lastRecordSeq.get() ?? 0;
    this.#setThrough.run({ through: Math.max(target, after) });
    return indexed;
  }

  /** Inside a write transaction, before the record's row is deleted: removes its FTS5 entry if it has one. */
  unindex(record: { readonly seq: number; readonly content: string }): void {
    if (record.seq <= this.through()) this.#unindex.run({ seq: record.seq, content: record.content });
  }

  /** After FTS5's 'rebuild' (repair): every record is indexed, up to `upTo`. */
  markRebuilt(upTo: number): void {
    this.#setThrough.run({ through: upTo });
  }
}

/** The tail is indexed once it spans this many seqs (records, and the other changes among them)... */
export const INDEX_BATCH_SEQS = 256;
/** ...or once its oldest record is this old (a store written to slowly is still indexed soon). */
export const INDEX_AFTER_MS = 1_000;
