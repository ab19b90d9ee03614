import Database from 'better-sqlite3';
import { agentScope, type Note } from './corpus.js';
import type { PlannedQuery } from './query-list.js';
import { matchExpression, RECALL_LIMIT, type CaseKind } from './recall-cases.js';

/**
 * The floor: the same rows in a plain SQLite database, searched with FTS5's bm25 straight through
 * better-sqlite3, as anyone would write it without memhub. A records table, a contentless FTS5
 * table with memhub's tokenizer (contentless like memhub's index: bm25 needs no copy of the text),
 * and a tag table like memhub's. No index on context_path: the scope query is then planned as
 * FTS5 first, each hit looked up by rowid and filtered, which is the plain way to write it.
 */
const SCHEMA = `
  CREATE TABLE records (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL,
    content TEXT NOT NULL,
    tags TEXT NOT NULL,
    context_path TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE VIRTUAL TABLE fts USING fts5 (content, content = '', tokenize = 'porter unicode61 remove_diacritics 2');
  CREATE TABLE record_tags (
    tag TEXT NOT NULL,
    record_seq INTEGER NOT NULL,
    PRIMARY KEY (tag, record_seq)
  ) WITHOUT ROWID;
`;

/** Rows per load transaction. */
export const BARE_LOAD_TRANSACTION = 50_000;

const COLUMNS = 'r.seq, r.id, r.content, r.tags, r.context_path, r.created_at';

/**
 * The three queries. Text and tags take the best ten rowids from FTS5 first and only then read
 * those ten records (reading every hit's record would be work that bm25 does not need); the tags
 * are checked per FTS5 hit, two primary-key lookups. The scope query needs each hit's
 * context_path, so it joins before the limit. Rows of equal bm25 (many: the notes are of similar
 * length) are ordered newest first, as memhub orders them, so that both sides return the same ten
 * rows and a difference in what they return is a real one.
 */
const QUERIES: Record<CaseKind, string> = {
  text: `
    SELECT ${COLUMNS}, hit.score FROM (
      SELECT rowid, bm25(fts) AS score FROM fts WHERE fts MATCH @match ORDER BY bm25(fts), rowid DESC LIMIT ${RECALL_LIMIT}
    ) AS hit JOIN records AS r ON r.seq = hit.rowid ORDER BY hit.score, r.seq DESC`,
  tags: `
    SELECT ${COLUMNS}, hit.score FROM (
      SELECT rowid, bm25(fts) AS score FROM fts WHERE fts MATCH @match
        AND EXISTS (SELECT 1 FROM record_tags WHERE tag = @tag1 AND record_seq = fts.rowid)
        AND EXISTS (SELECT 1 FROM record_tags WHERE tag = @tag2 AND record_seq = fts.rowid)
      ORDER BY bm25(fts), rowid DESC LIMIT ${RECALL_LIMIT}
    ) AS hit JOIN records AS r ON r.seq = hit.rowid ORDER BY hit.score, r.seq DESC`,
  scope: `
    SELECT ${COLUMNS}, bm25(fts) AS score FROM fts JOIN records AS r ON r.seq = fts.rowid
    WHERE fts MATCH @match AND (r.context_path = @scope OR (r.context_path >= @below AND r.context_path < @after))
    ORDER BY bm25(fts), r.seq DESC LIMIT ${RECALL_LIMIT}`,
};

/** The same filters without bm25 or a limit: how many rows a query matches, for the report. */
const COUNTS: Record<CaseKind, string> = {
  text: 'SELECT count(*) FROM fts WHERE fts MATCH @match',
  tags: `SELECT count(*) FROM fts WHERE fts MATCH @match
    AND EXISTS (SELECT 1 FROM record_tags WHERE tag = @tag1 AND record_seq = fts.rowid)
    AND EXISTS (SELECT 1 FROM record_tags WHERE tag = @tag2 AND record_seq = fts.rowid)`,
  scope: `SELECT count(*) FROM fts JOIN records AS r ON r.seq = fts.rowid
    WHERE fts MATCH @match AND (r.context_path = @scope OR (r.context_path >= @below AND r.context_path < @after))`,
};

export interface BareRow {
  readonly seq: number;
  readonly id: string;
  readonly content: string;
  readonly tags: string;
  readonly context_path: string;
  readonly created_at: number;
  readonly score: number;
}

export class BareDatabase {
  readonly #db: Database.Database;
  readonly #queries: Record<CaseKind, Database.Statement<Record<string, string>, BareRow>>;
  readonly #counts: Record<CaseKind, Database.Statement<Record<string, string>, number>>;

  private constructor(db: Database.Database) {
    this.#db = db;
    this.#queries = {
      text: db.prepare(QUERIES.text),
      tags: db.prepare(QUERIES.tags),
      scope: db.prepare(QUERIES.scope),
    };
    const count = (sql: string) => db.prepare<Record<string, string>, number>(sql).pluck();
    this.#counts = { text: count(COUNTS.text), tags: count(COUNTS.tags), scope: count(COUNTS.scope) };
  }

  /**
   * Creates the database at `path` and writes the notes into it, BARE_LOAD_TRANSACTION rows per
   * transaction. The connection is set up as memhub's are (WAL, synchronous=NORMAL), so that the
   * two loads are comparable. `loadMs` counts the transactions, not the making of the notes.
   */
  static create(path: string, rows: Iterable<Note>): { database: BareDatabase; loadMs: number } {
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.exec(SCHEMA);
    const insertRecord = db.prepare('INSERT INTO records (seq, id, content, tags, context_path, created_at) VALUES (?, ?, ?, ?, ?, ?)');
    const insertText = db.prepare('INSERT INTO fts (rowid, content) VALUES (?, ?)');
    const insertTag = db.prepare('INSERT INTO record_tags (tag, record_seq) VALUES (?, ?)');
    let seq = 0;
    const writeBatch = db.transaction((notes: readonly Note[]) => {
      const now = Date.now();
      for (const note of notes) {
        seq += 1;
        insertRecord.run(seq, `note-${seq}`, note.content, JSON.stringify(note.tags), note.contextPath, now);
        insertText.run(seq, note.content);
        for (const tag of note.tags) insertTag.run(tag, seq);
      }
    });
    let loadMs = 0;
    let batch: Note[] = [];
    const write = () => {
      const started = performance.now();
      writeBatch(batch);
      loadMs += performance.now() - started;
      batch = [];
    };
    for (const note of rows) {
      batch.push(note);
      if (batch.length === BARE_LOAD_TRANSACTION) write();
    }
    if (batch.length > 0) write();
    return { database: new BareDatabase(db), loadMs };
  }

  /** The best rows for a query of this kind, best first. */
  recall(kind: CaseKind, query: PlannedQuery): BareRow[] {
    return this.#queries[kind].all(parameters(kind, query));
  }

  /** How many rows the query matches before the limit. */
  matching(kind: CaseKind, query: PlannedQuery): number {
    return this.#counts[kind].get(parameters(kind, query)) as number;
  }

  close(): void {
    this.#db.close();
  }
}

function parameters(kind: CaseKind, query: PlannedQuery): Record<string, string> {
  const match = matchExpression(query.words);
  switch (kind) {
    case 'text':
      return { match };
    case 'tags':
      return { match, tag1: query.tags[0], tag2: query.tags[1] };
    case 'scope': {
      // The scope itself or below it: the range memhub uses (`/a/` up to `/a0`, '0' being the character after '/').
      const scope = agentScope(query.agent);
      return { match, scope, below: `${scope}/`, after: `${scope}0` };
    }
  }
}
