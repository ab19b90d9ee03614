import { join } from 'node:path';
import { openLock, type FileLock, type LockHandle } from '@memhub/lock';
import Database from 'better-sqlite3';
import { StoreCorruptError } from '../../errors.js';
import { hitFaultPoint } from '../../fault-points.js';
import { PageSizer } from '../../page-sizer.js';
import type { VerifyProblem } from '../../verify-report.js';
import { openSqliteConnection, type Durability } from './sqlite-database.js';
import { isSqliteBusy } from './sqlite-busy.js';

/** The search index's own database, beside memory.db: a view of the records, never their only copy. */
export const SEARCH_DATABASE_FILE = 'memory.search.db';
/** Held by whoever writes the search index (indexing the tail, applying removals, a reset). */
export const SEARCH_LOCK_FILE = 'memory.search.db.lock';

const SEARCH_SCHEMA_VERSION = 2;

/**
 * The search index's tables. `records_fts` is contentless (FTS5 keeps no copy of the text: the
 * records are in memory.db, and an FTS5 table can take its content only from its own database)
 * with `contentless_delete`, so that an entry is deleted by its rowid alone. `search_state` says
 * how far the index has got: every record with a seq up to `through` is indexed, every removal up
 * to `removals_through` applied, and `store_id` names the memory.db it follows.
 */
const SEARCH_SCHEMA = `
  CREATE TABLE search_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    store_id TEXT NOT NULL,
    through INTEGER NOT NULL,
    removals_through INTEGER NOT NULL
  );
  INSERT INTO search_state (id, store_id, through, removals_through) VALUES (1, '', 0, 0);
  CREATE VIRTUAL TABLE records_fts USING fts5 (
    content, content = '', contentless_delete = 1, tokenize = 'porter unicode61 remove_diacritics 2'
  );
  CREATE TABLE record_tags (
    tag TEXT NOT NULL,
    record_seq INTEGER NOT NULL,
    PRIMARY KEY (tag, record_seq)
  ) WITHOUT ROWID;
  CREATE INDEX record_tags_by_record ON record_tags (record_seq) WHERE record_seq > 0;
`;

/**
 * The index of a record's tag rows, for removing them and for verify, is partial (`record_seq > 0`,
 * which every seq is) so that only a query that says so can use it. Recall's "has this tag" check
 * (tag = ? AND record_seq = ?) could use either this index or the primary key; the planner took
 * this index, and checking the matches in seq order through it reads pages spread over the whole
 * table, where the primary key keeps each tag's rows together: 33 ms instead of 21 ms for a
 * two-tag recall of 1M rows (bench:recall). Its queries carry `record_seq > 0`.
 */
const BY_RECORD = 'record_seq > 0';

/** Schema version 1 had the index of a record's tag rows whole, which recall's tag checks took (see BY_RECORD). */
const SEARCH_MIGRATION_FROM_1 = `
  DROP INDEX record_tags_by_record;
  CREATE INDEX record_tags_by_record ON record_tags (record_seq) WHERE record_seq > 0;
`;

/** A page of the tail indexed in one transaction: about 10 ms of indexing, so the event loop is never held long. */
export const INDEX_PAGE_RECORDS = 256;

/** The tail is worth indexing once it spans this many seqs (records, and the other changes among them)... */
export const INDEX_BATCH_SEQS = 256;
/** ...or once its oldest record is this old (a store written to slowly is still indexed soon). */
export const INDEX_AFTER_MS = 1_000;

interface SearchState {
  readonly store_id: string;
  readonly through: number;
  readonly removals_through: number;
}

interface TailRow {
  readonly seq: number;
  readonly content: string;
  readonly tags: string;
}

/**
 * The search index, `records_fts` (FTS5) and `record_tags`, in a database of its own,
 * `memory.search.db`, with a lock of its own. It follows the records of memory.db by seq, like the
 * layer mirrors follow the change journal: a write transaction holds only what must be atomic (the
 * records, their seqs, the mirror journal, and a removal row per forgotten record), and the index
 * is brought up to date in batches, by whichever process has time for it, without the store's
 * write lock: the leader goes on committing while another process indexes.
 *
 * Two connections. The reader (`db`) opens the index as its main database and memory.db attached
 * as `store`, and only reads, in deferred read transactions: recall runs there (`records` resolves
 * to store.records), and each page of the tail is read there in one snapshot of both. The writer
 * opens the index alone and writes it in BEGIN IMMEDIATE transactions under the search lock: with
 * memory.db attached, BEGIN IMMEDIATE would take memory.db's write lock as well.
 *
 * The index is derived: a missing file is created and filled again, an index that follows
 * another memory.db (another store_id) or one ahead of it (memory.db restored from an older copy)
 * is emptied and filled again, and repair() does the same.
 */
export class SqliteSearchDatabase {
  /** The reader: the index, with memory.db attached as `store`. */
  readonly db: Database.Database;
  /** The writer: the index alone (the same connection as the reader for an in-memory index). */
  readonly #writer: Database.Database;
  /** Undefined for an in-memory index (the folder cannot be written here): private to this connection. */
  readonly #lock: FileLock | undefined;
  readonly #state: Database.Statement<unknown[], SearchState>;
  readonly #storeId: Database.Statement<unknown[], string | undefined>;
  readonly #lastSeq: Database.Statement<unknown[], number>;
  readonly #tail: Database.Statement<{ after: number; limit: number }, TailRow>;
  readonly #firstUnindexed: Database.Statement<{ after: number }, { seq: number; created_at: number }>;
  readonly #unindexedCount: Database.Statement<{ after: number }, number>;
  readonly #removals: Database.Statement<{ after: number }, { change_seq: number; record_seq: number }>;
  readonly #lastRemoval: Database.Statement<unknown[], number | null>;
  readonly #index: Database.Statement<{ seq: number; content: string }, never>;
  readonly #tag: Database.Statement<{ seq: number; tags: string }, never>;
  readonly #unindex: Database.Statement<{ seq: number }, never>;
  readonly #untag: Database.Statement<{ seq: number }, never>;
  readonly #setState: Database.Statement<{ store_id: string; through: number; removals_through: number }, never>;
  readonly #deleteAll: Database.Statement<unknown[], never>;
  readonly #deleteAllTags: Database.Statement<unknown[], never>;
  /** Records this object indexed. */
  recordsIndexed = 0;
  /** Pages of the tail by their content's size too: a page of large records must fit in the heap. */
  readonly #pages = new PageSizer();

  private constructor(db: Database.Database, writer: Database.Database, lock: FileLock | undefined) {
    this.db = db;
    this.#writer = writer;
    this.#lock = lock;
    this.#state = db.prepare('SELECT store_id, through, removals_through FROM main.search_state WHERE id = 1');
    this.#storeId = db.prepare(`SELECT value FROM store.store_settings WHERE name = 'store_id'`).pluck() as Database.Statement<unknown[], string | undefined>;
    this.#lastSeq = db.prepare('SELECT last_seq FROM store.store_sequence WHERE id = 1').pluck() as Database.Statement<unknown[], number>;
    this.#tail = db.prepare('SELECT seq, content, tags FROM store.records WHERE seq > @after ORDER BY seq LIMIT @limit');
    this.#firstUnindexed = db.prepare('SELECT seq, created_at FROM store.records WHERE seq > @after ORDER BY seq LIMIT 1');
    this.#unindexedCount = db.prepare('SELECT count(*) FROM store.records WHERE seq > @after').pluck() as Database.Statement<{ after: number }, number>;
    this.#removals = db.prepare('SELECT change_seq, record_seq FROM store.search_removals WHERE change_seq > @after ORDER BY change_seq');
    this.#lastRemoval = db.prepare('SELECT max(change_seq) FROM store.search_removals').pluck() as Database.Statement<unknown[], number | null>;
    this.#index = writer.prepare('INSERT INTO main.records_fts (rowid, content) VALUES (@seq, @content)');
    // The tags as the record keeps them (a JSON array, deduplicated on the way in).
    this.#tag = writer.prepare('INSERT OR IGNORE INTO main.record_tags (tag, record_seq) SELECT value, @seq FROM json_each(@tags)');
    this.#unindex = writer.prepare('DELETE FROM main.records_fts WHERE rowid = @seq');
    this.#untag = writer.prepare(`DELETE FROM main.record_tags WHERE record_seq = @seq AND ${BY_RECORD}`);
    this.#setState = writer.prepare('UPDATE main.search_state SET store_id = @store_id, through = @through, removals_through = @removals_through WHERE id = 1');
    this.#deleteAll = writer.prepare(`INSERT INTO main.records_fts (records_fts) VALUES ('delete-all')`);
    this.#deleteAllTags = writer.prepare('DELETE FROM main.record_tags');
  }

  /**
   * Opens (creating it if needed) the store's search index, with memory.db attached. Where the
   * index cannot be opened for writing (a folder this process may only read, a file that is not a
   * database), an empty index in memory takes its place: recalls still find everything, since
   * they index what they need into it, and `onFallback` is told why.
   */
  static async open(dir: string, options: { durability: Durability; busyTimeoutMs: number; lockTimeoutMs: number; allowUnsafeFilesystem: boolean; onFallback: (reason: string) => void }): Promise<SqliteSearchDatabase> {
    const path = join(dir, SEARCH_DATABASE_FILE);
    let lock: FileLock | undefined;
    let writer: Database.Database | undefined;
    let reader: Database.Database | undefined;
    try {
      lock = openLock(join(dir, SEARCH_LOCK_FILE), { purpose: 'memhub search index', allowUnsafeFilesystem: options.allowUnsafeFilesystem, timeoutMs: options.lockTimeoutMs });
      writer = openSqliteConnection(path, options.durability, options.busyTimeoutMs);
      if (!isReady(writer)) {
        const held = await lock.acquire({ purpose: 'memhub search index: schema' });
        try {
          createSchema(writer);
        } finally {
          held.release();
        }
      }
      reader = openSqliteConnection(path, options.durability, options.busyTimeoutMs);
      attachStore(reader, dir);
      const search = new SqliteSearchDatabase(reader, writer, lock);
      await search.#emptyIfForeign(options.lockTimeoutMs);
      return search;
    } catch (error) {
      reader?.close();
      writer?.close();
      lock?.close();
      options.onFallback((error as Error).message);
      const memory = new Database(':memory:');
      memory.exec(SEARCH_SCHEMA);
      attachStore(memory, dir);
      return new SqliteSearchDatabase(memory, memory, undefined);
    }
  }

  close(): void {
    this.db.close();
    if (this.#writer !== this.db) this.#writer.close();
    this.#lock?.close();
  }

  /**
   * A write of the index: BEGIN IMMEDIATE on the writer, which holds the index alone. An
   * in-memory index is private to its one connection (which has memory.db attached, and must not
   * take its write lock): nobody else can hold it, and a deferred transaction writes only it.
   */
  #write<T>(work: () => T): T {
    const transaction = this.#writer.transaction(work);
    return this.#lock === undefined ? transaction.deferred() : transaction.immediate();
  }

  /** Every record with a seq up to this is indexed (0 for an index of another memory.db: see #followsThisStore). */
  through(): number {
    return this.#position().through;
  }

  /** The index's cursor as far as it is valid for memory.db, and memory.db's last seq: each read once. */
  #position(): { readonly through: number; readonly lastSeq: number } {
    const state = this.#state.get() as SearchState;
    const lastSeq = this.#lastSeq.get() as number;
    return { through: this.#followsThisStore(state, undefined, lastSeq) ? state.through : 0, lastSeq };
  }

  /** How far the index has applied the store's removal rows: memory.db may prune them up to here. */
  removalsApplied(): number {
    const state = this.#state.get() as SearchState;
    return this.#followsThisStore(state) ? state.removals_through : 0;
  }

  /** Whether some record is not indexed yet. */
  isBehind(): boolean {
    return this.#firstUnindexed.get({ after: this.through() }) !== undefined;
  }

  /** How many records are not indexed yet. */
  unindexedRecords(): number {
    return this.#unindexedCount.get({ after: this.through() }) as number;
  }

  /** How many seqs the store has past the index: records, and the other changes among them. */
  tailSeqs(): number {
    const { through, lastSeq } = this.#position();
    return Math.max(0, lastSeq - through);
  }

  /** Whether the tail is worth indexing now: INDEX_BATCH_SEQS long, or its oldest record INDEX_AFTER_MS old. */
  isDue(now: number): boolean {
    const { through, lastSeq } = this.#position();
    if (lastSeq - through >= INDEX_BATCH_SEQS) return true;
    const first = this.#firstUnindexed.get({ after: through });
    return first !== undefined && now - first.created_at >= INDEX_AFTER_MS;
  }

  /**
   * Indexes the tail, a page of at most INDEX_PAGE_RECORDS records a transaction, each under the
   * search lock (released between pages, and the event loop let go: nothing holds the lock across
   * an await). `waitMs`: how long to wait for the lock before each page (0: only if it is free
   * now; another process holding it is indexing already). Resolves with true once every record of
   * the store as of the last page is indexed, false when the lock was not had (nothing done, or
   * only part).
   */
  async catchUp(waitMs: number): Promise<boolean> {
    for (;;) {
      const held = await this.#hold(waitMs);
      if (held === null) return false;
      let done: { readonly indexed: number; readonly last: boolean };
      try {
        done = this.#indexPage();
      } catch (error) {
        // Another program holds this file's write lock: leave the rest to the next catch-up.
        if (isSqliteBusy(error)) return false;
        throw error;
      } finally {
        held?.release();
      }
      this.recordsIndexed += done.indexed;
      if (done.last) return true;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** The search lock: waited for `waitMs` at most; null when not had. Undefined for an in-memory index (no lock needed). */
  async #hold(waitMs: number): Promise<LockHandle | null | undefined> {
    if (this.#lock === undefined) return undefined;
    if (waitMs <= 0) return this.#lock.tryAcquire({ purpose: 'memhub search index' });
    try {
      return await this.#lock.acquire({ purpose: 'memhub search index', timeoutMs: waitMs });
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ERR_LOCK_TIMEOUT') return null;
      throw error;
    }
  }

  /**
   * Under the search lock: a snapshot of what to do, read on the reader in one read transaction
   * (the index's state, the removals not applied yet and up to a page of the tail), then written
   * in one transaction of the writer. Returns the records indexed.
   */
  #indexPage(): { readonly indexed: number; readonly last: boolean } {
    const limit = Math.min(INDEX_PAGE_RECORDS, this.#pages.size);
    const snapshot = this.db
      .transaction(() => {
        const storeId = this.#storeId.get() ?? '';
        const state = this.#state.get() as SearchState;
        const lastSeq = this.#lastSeq.get() as number;
        const follows = this.#followsThisStore(state, storeId, lastSeq);
        // An index of another memory.db is emptied: every record is in the tail again, and every
        // removal row so far is about records this snapshot does not have.
        const through = follows ? state.through : 0;
        const removals = follows ? this.#removals.all({ after: state.removals_through }) : [];
        const removalsThrough = follows ? (removals.at(-1)?.change_seq ?? state.removals_through) : (this.#lastRemoval.get() ?? 0);
        const page = this.#tail.all({ after: through, limit });
        return { storeId, state, follows, through, removals, removalsThrough, page, lastSeq };
      })
      .deferred();
    const { storeId, state, follows, through, removals, removalsThrough, page, lastSeq } = snapshot;
    // Every record up to the page's last is indexed; a short page is the end of the tail, so the
    // cursor goes to the snapshot's last seq (the changes after the last record, too).
    this.#pages.measured(page.length, page.reduce((chars, row) => chars + row.content.length, 0));
    const last = page.length < limit;
    const newThrough = last ? Math.max(through, lastSeq) : (page[page.length - 1] as TailRow).seq;
    if (follows && page.length === 0 && removals.length === 0 && newThrough === state.through) return { indexed: 0, last };
    this.#write(() => {
      if (!follows) this.#empty();
      // A removal of a record the index has reached deletes its entry; one above the cursor was
      // forgotten before it was indexed, and is not in this snapshot's records either.
      for (const removal of removals) {
        if (removal.record_seq <= through) {
          this.#unindex.run({ seq: removal.record_seq });
          this.#untag.run({ seq: removal.record_seq });
        }
      }
      // The tag rows first, then the FTS5 entries: an INSERT ... SELECT runs in a statement
      // savepoint, and FTS5 flushes its pending entries at every savepoint. Interleaved, each
      // record became a segment of its own, and indexing cost four times as much.
      for (const row of page) this.#tag.run({ seq: row.seq, tags: row.tags });
      for (const row of page) this.#index.run({ seq: row.seq, content: row.content });
      this.#setState.run({ store_id: storeId, through: newThrough, removals_through: removalsThrough });
      if (page.length > 0) hitFaultPoint('search-index-before-commit');
    });
    return { indexed: page.length, last };
  }

  /**
   * Whether the index follows this memory.db and has not passed it: another store_id (memory.db
   * replaced, or rebuilt from the mirrors) or a cursor past the store's last seq (memory.db
   * restored from an older copy) makes it an index of something else, to be emptied.
   */
  #followsThisStore(state: SearchState, storeId = this.#storeId.get() ?? '', lastSeq = this.#lastSeq.get() as number): boolean {
    return state.store_id === storeId && state.through <= lastSeq;
  }

  /**
   * On open, before this process writes anything: an index of another memory.db (or of a later
   * state of this one, restored from an older copy since) is emptied now, while its cursor can
   * still be compared with the store's last seq (writes would soon pass it, and reuse the seqs of
   * records it indexed).
   */
  async #emptyIfForeign(waitMs: number): Promise<void> {
    if (this.#followsThisStore(this.#state.get() as SearchState)) return;
    const held = await this.#hold(waitMs);
    if (held === null) return;
    try {
      const storeId = this.#storeId.get() ?? '';
      if (this.#followsThisStore(this.#state.get() as SearchState, storeId)) return;
      const removalsThrough = this.#lastRemoval.get() ?? 0;
      this.#write(() => {
        this.#empty();
        this.#setState.run({ store_id: storeId, through: 0, removals_through: removalsThrough });
      });
    } finally {
      held?.release();
    }
  }

  /** Inside a write transaction: no entry, no tag row. */
  #empty(): void {
    this.#deleteAll.run();
    this.#deleteAllTags.run();
  }

  /** repair(): empties the index under the search lock and fills it again from the records. */
  async rebuild(waitMs: number): Promise<void> {
    const held = await this.#hold(waitMs);
    if (held === null) throw new StoreCorruptError('the search index could not be rebuilt: its lock was not had');
    try {
      // Marked as following no store: the next page empties it and starts from the first record.
      this.#write(() => {
        this.#empty();
        this.#setState.run({ store_id: '', through: 0, removals_through: 0 });
      });
    } finally {
      held?.release();
    }
    if (!(await this.catchUp(waitMs))) throw new StoreCorruptError('the search index could not be rebuilt: its lock was not had');
  }

  /**
   * verify(): the index against the records it has reached, in one read (a tail is not a
   * problem; an index that does not match the records below its cursor is). A contentless FTS5
   * table cannot compare itself with the text, so the records up to the cursor are indexed again
   * into a temporary table of this connection (temporary tables take no lock on the database), and
   * every term of either is looked up in both: the same number of records must match. Then SQLite's and FTS5's structure checks, and the tag rows against each record's tags.
   */
  check(): VerifyProblem[] {
    const problems: VerifyProblem[] = [];
    this.db
      .transaction(() => {
        try {
          // A full-text read first: it refreshes FTS5's cached copy of the index structure, which
          // integrity_check reuses as it is. After another connection had merged index segments,
          // a stale copy made it report "fts5: corruption found reading blob" for a healthy index.
          this.db.prepare(`SELECT rowid FROM main.records_fts WHERE records_fts MATCH '"memhub"' LIMIT 1`).get();
          const integrity = this.db.pragma('main.integrity_check(100)', { simple: false }) as { integrity_check: string }[];
          for (const { integrity_check: message } of integrity) if (message !== 'ok') problems.push({ kind: 'full-text-index', message: `the search index's database: ${message}` });
        } catch (error) {
          problems.push({ kind: 'full-text-index', message: `the search index cannot be read: ${(error as Error).message}` });
          return;
        }
        const through = this.through();
        const differing = this.#vocabularyDifferences(through);
        if (differing.length > 0) {
          problems.push({
            kind: 'full-text-index',
            message: `the full-text index does not match the records it has reached: ${differing.length} term(s) differ, e.g. ${differing.slice(0, 5).join(', ')}`,
          });
        }
        const mismatched = this.db.prepare(TAG_MISMATCH_SQL).pluck().all({ through }) as string[];
        if (mismatched.length > 0) {
          problems.push({ kind: 'tags', message: `${mismatched.length} record(s) whose tag rows differ from their tags, e.g. ${mismatched.slice(0, 5).join(', ')}` });
        }
      })
      .deferred();
    return problems;
  }

  /** Inside a read transaction: the terms whose counts differ between the index and the records up to `through` indexed afresh. */
  #vocabularyDifferences(through: number): string[] {
    const db = this.db;
    db.exec(`
      DROP TABLE IF EXISTS temp.memhub_verify_fts;
      CREATE VIRTUAL TABLE temp.memhub_verify_fts USING fts5 (content, content = '', tokenize = 'porter unicode61 remove_diacritics 2');
      CREATE VIRTUAL TABLE IF NOT EXISTS temp.memhub_verify_expected USING fts5vocab (temp, memhub_verify_fts, row);
      CREATE VIRTUAL TABLE IF NOT EXISTS temp.memhub_verify_actual USING fts5vocab (main, records_fts, row);
      DROP TABLE IF EXISTS temp.memhub_verify_pending;
      CREATE TABLE temp.memhub_verify_pending (seq INTEGER PRIMARY KEY);
    `);
    // Records forgotten since the index last applied the removal rows: still in the index, rightly.
    db.prepare('INSERT OR IGNORE INTO temp.memhub_verify_pending (seq) SELECT record_seq FROM store.search_removals WHERE change_seq > @after AND record_seq <= @through').run({
      after: this.removalsApplied(),
      through,
    });
    try {
      const page = db.prepare('SELECT seq, content FROM store.records WHERE seq > @after AND seq <= @through ORDER BY seq LIMIT @limit');
      const insert = db.prepare('INSERT INTO temp.memhub_verify_fts (rowid, content) VALUES (@seq, @content)');
      const pages = new PageSizer();
      for (let after = 0; ; ) {
        const limit = pages.size;
        const rows = page.all({ after, through, limit }) as { seq: number; content: string }[];
        for (const row of rows) insert.run(row);
        pages.measured(rows.length, rows.reduce((chars, row) => chars + row.content.length, 0));
        if (rows.length < limit) break;
        after = (rows[rows.length - 1] as { seq: number }).seq;
      }
      // fts5vocab still counts the entries of deleted rows (contentless_delete keeps tombstones
      // until segments merge), a MATCH does not: each term is counted by a MATCH in both tables,
      // which also tokenizes it the same way in both.
      const expected = db.prepare('SELECT count(*) FROM temp.memhub_verify_fts WHERE memhub_verify_fts MATCH ?').pluck();
      const actual = db.prepare('SELECT count(*) FROM main.records_fts WHERE records_fts MATCH ? AND rowid NOT IN (SELECT seq FROM temp.memhub_verify_pending)').pluck();
      const differing: string[] = [];
      // The terms a page at a time, in order (a store's vocabulary may not fit in the heap).
      for (const vocabulary of ['memhub_verify_expected', 'memhub_verify_actual']) {
        const page = db.prepare(`SELECT term FROM temp.${vocabulary} WHERE term > ? ORDER BY term LIMIT 1000`).pluck();
        for (let after = ''; differing.length < 1000; ) {
          const terms = page.all(after) as string[];
          for (const term of terms) {
            const match = `"${term.replaceAll('"', '""')}"`;
            if (expected.get(match) !== actual.get(match) && !differing.includes(term)) differing.push(term);
          }
          if (terms.length < 1000) break;
          after = terms[terms.length - 1] as string;
        }
      }
      return differing;
    } finally {
      db.exec(
        'DROP TABLE IF EXISTS temp.memhub_verify_expected; DROP TABLE IF EXISTS temp.memhub_verify_actual; DROP TABLE IF EXISTS temp.memhub_verify_fts; DROP TABLE IF EXISTS temp.memhub_verify_pending;',
      );
    }
  }
}

/** Ids of indexed records whose tag rows are not exactly their tags. */
const TAG_MISMATCH_SQL = `
  SELECT r.id FROM store.records r
  WHERE r.seq <= @through AND (
     (SELECT count(*) FROM main.record_tags t WHERE t.record_seq = r.seq AND t.${BY_RECORD}) != json_array_length(r.tags)
     OR EXISTS (
       SELECT 1 FROM json_each(r.tags) j
       WHERE NOT EXISTS (SELECT 1 FROM main.record_tags t WHERE t.record_seq = r.seq AND t.tag = j.value)
     ))
  LIMIT 10000`;

function isReady(db: Database.Database): boolean {
  return String(db.pragma('journal_mode', { simple: true })) === 'wal' && Number(db.pragma('user_version', { simple: true })) === SEARCH_SCHEMA_VERSION;
}

/** Under the search lock: WAL, the tables, user_version last (a newer version is refused, not rewritten). */
function createSchema(db: Database.Database): void {
  const version = Number(db.pragma('user_version', { simple: true }));
  if (version > SEARCH_SCHEMA_VERSION) throw new Error(`${SEARCH_DATABASE_FILE} has schema version ${version}, newer than this memhub knows (${SEARCH_SCHEMA_VERSION})`);
  if (String(db.pragma('journal_mode', { simple: true })) !== 'wal') db.pragma('journal_mode = WAL');
  if (version === SEARCH_SCHEMA_VERSION) return;
  db.transaction(() => {
    db.exec(version === 1 ? SEARCH_MIGRATION_FROM_1 : SEARCH_SCHEMA);
    db.pragma(`user_version = ${SEARCH_SCHEMA_VERSION}`);
  }).immediate();
}

function attachStore(db: Database.Database, dir: string): void {
  db.prepare('ATTACH DATABASE ? AS store').run(join(dir, 'memory.db'));
}

