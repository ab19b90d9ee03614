import type Database from 'better-sqlite3';
import type { RebuildLine, SkippedLineKind } from './sqlite-rebuild-lines.js';

/** Where a line is in its layer file. */
export interface LinePlace {
  readonly layer: string;
  readonly lineNumber: number;
  readonly offset: number;
  readonly length: number;
}

/** What a checked line stages: its place, its seq, and what it does, without the record's content (which stays in the file). */
export interface StageEntry {
  readonly place: LinePlace;
  readonly seq: number;
  readonly op: RebuildLine['op'];
  readonly recordId: string | null;
  readonly recordSeq: number | null;
  readonly recordKey: string | null;
  readonly recallCount: number | null;
  readonly counts: string | null;
}

export function stageEntry(place: LinePlace, line: RebuildLine): StageEntry {
  const entering = line.op === 'remember' || line.op === 'update' || line.op === 'move-in' ? line.record : undefined;
  return {
    place,
    seq: line.seq,
    op: line.op,
    recordId: entering?.id ?? (line.op === 'forget' || line.op === 'move-out' ? line.id : null),
    recordSeq: entering?.seq ?? null,
    recordKey: entering?.key ?? null,
    recallCount: entering?.recallCount ?? null,
    counts: line.op === 'recall-counts' ? JSON.stringify(line.counts) : null,
  };
}

/** A checked line as staged: its place, its seq, and what it does (not the record's content, which stays in the file). */
export interface StagedLine {
  readonly line_number: number;
  readonly offset: number;
  readonly length: number;
  readonly seq: number;
  readonly op: RebuildLine['op'];
  readonly record_id: string | null;
  readonly record_seq: number | null;
  readonly record_key: string | null;
  readonly recall_count: number | null;
  readonly counts: string | null;
}

/** A record in a layer's replay: where its entering line is, and what the cross-layer checks need. */
export interface LiveRecord {
  readonly id: string;
  readonly line_number: number;
  readonly offset: number;
  readonly length: number;
  readonly recall_count: number;
}

/** A line that held an earlier version of a record (see RebuildStaging.replace). */
export interface VersionLine {
  readonly id: string;
  readonly line_number: number;
  readonly offset: number;
  readonly length: number;
}

export interface SkippedRow {
  readonly line_number: number;
  readonly offset: number;
  readonly length: number;
  readonly kind: SkippedLineKind;
  readonly reason: string;
}

/**
 * The rebuild's scratch tables, in the connection's temp schema (a file that SQLite deletes when
 * the connection closes; `temp_store = FILE`, so a large mirror does not fill the heap):
 *
 * - `rebuild_lines`: every line that passed checkRebuildLine(), by layer and seq, with what it
 *   does but not the record's content (that is read again from the file when the record is
 *   written), so each layer is replayed in seq order whatever the order of its file;
 * - `rebuild_live`: each layer's records as its own lines add up to (the replay verify() makes of
 *   one file), with the line that brought each in;
 * - `rebuild_skipped`: every line that is not applied, with its kind and reason.
 */
export class RebuildStaging {
  readonly #db: Database.Database;
  readonly #stage: Database.Statement;
  readonly #stagedPage: Database.Statement<unknown[], StagedLine>;
  readonly #skip: Database.Statement;
  readonly #liveLine: Database.Statement<unknown[], number>;
  readonly #enter: Database.Statement;
  readonly #leave: Database.Statement;
  readonly #keepVersion: Database.Statement;
  readonly #dropVersions: Database.Statement;
  readonly #versionsPage: Database.Statement<unknown[], VersionLine>;
  readonly #raiseCount: Database.Statement;
  readonly #confirm: Database.Statement;
  readonly #livePage: Database.Statement<unknown[], LiveRecord>;
  readonly #skippedPage: Database.Statement<unknown[], SkippedRow>;

  constructor(db: Database.Database) {
    this.#db = db;
    db.pragma('temp_store = FILE');
    db.exec(`
      CREATE TEMP TABLE rebuild_lines (
        layer TEXT NOT NULL,
        seq INTEGER NOT NULL,
        line_number INTEGER NOT NULL,
        offset INTEGER NOT NULL,
        length INTEGER NOT NULL,
        op TEXT NOT NULL,
        -- remember and move-in: the record's id, seq, key and recall count; forget and move-out: the id
        record_id TEXT,
        record_seq INTEGER,
        record_key TEXT,
        recall_count INTEGER,
        -- recall-counts: {id: total} as JSON
        counts TEXT,
        PRIMARY KEY (layer, seq, line_number)
      ) WITHOUT ROWID;
      CREATE TEMP TABLE rebuild_live (
        layer TEXT NOT NULL,
        id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        key TEXT,
        -- the seq of the line that brought the record into the layer...
        line_seq INTEGER NOT NULL,
        -- ...raised by each snapshot line after it: the layer's file says the record is there as of this seq
        as_of INTEGER NOT NULL,
        recall_count INTEGER NOT NULL,
        line_number INTEGER NOT NULL,
        offset INTEGER NOT NULL,
        length INTEGER NOT NULL,
        PRIMARY KEY (layer, id)
      ) WITHOUT ROWID;
      CREATE INDEX temp.rebuild_live_by_line ON rebuild_live (layer, line_number);
      -- The lines of versions that an update line replaced in the layer's replay: written to
      -- record_versions for the records that are still live in the layer at the end.
      CREATE TEMP TABLE rebuild_versions (
        layer TEXT NOT NULL,
        id TEXT NOT NULL,
        line_number INTEGER NOT NULL,
        offset INTEGER NOT NULL,
        length INTEGER NOT NULL,
        PRIMARY KEY (layer, id, line_number)
      ) WITHOUT ROWID;
      CREATE TEMP TABLE rebuild_skipped (
        layer TEXT NOT NULL,
        line_number INTEGER NOT NULL,
        offset INTEGER NOT NULL,
        length INTEGER NOT NULL,
        kind TEXT NOT NULL,
        reason TEXT NOT NULL,
        PRIMARY KEY (layer, line_number)
      ) WITHOUT ROWID;
    `);
    this.#stage = db.prepare(
      `INSERT INTO rebuild_lines (layer, seq, line_number, offset, length, op, record_id, record_seq, record_key, recall_count, counts)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#stagedPage = db.prepare(
      `SELECT line_number, offset, length, seq, op, record_id, record_seq, record_key, recall_count, counts FROM rebuild_lines
       WHERE layer = ? AND (seq, line_number) > (?, ?) ORDER BY seq, line_number LIMIT ?`,
    );
    this.#skip = db.prepare('INSERT INTO rebuild_skipped (layer, line_number, offset, length, kind, reason) VALUES (?, ?, ?, ?, ?, ?)');
    this.#liveLine = db.prepare('SELECT line_number FROM rebuild_live WHERE layer = ? AND id = ?').pluck() as Database.Statement<unknown[], number>;
    this.#enter = db.prepare(
      `INSERT INTO rebuild_live (layer, id, seq, key, line_seq, as_of, recall_count, line_number, offset, length)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#leave = db.prepare('DELETE FROM rebuild_live WHERE layer = ? AND id = ?');
    this.#keepVersion = db.prepare(
      `INSERT OR IGNORE INTO rebuild_versions (layer, id, line_number, offset, length)
       SELECT layer, id, line_number, offset, length FROM rebuild_live WHERE layer = ? AND id = ?`,
    );
    this.#dropVersions = db.prepare('DELETE FROM rebuild_versions WHERE layer = ? AND id = ?');
    this.#versionsPage = db.prepare(
      `SELECT v.id, v.line_number, v.offset, v.length FROM rebuild_versions v
       WHERE v.layer = ? AND v.line_number > ? AND EXISTS (SELECT 1 FROM rebuild_live l WHERE l.layer = v.layer AND l.id = v.id)
       ORDER BY v.line_number LIMIT ?`,
    );
    this.#raiseCount = db.prepare('UPDATE rebuild_live SET recall_count = max(recall_count, ?) WHERE layer = ? AND id = ?');
    this.#confirm = db.prepare('UPDATE rebuild_live SET as_of = ? WHERE layer = ? AND as_of < ?');
    this.#livePage = db.prepare(
      'SELECT id, line_number, offset, length, recall_count FROM rebuild_live WHERE layer = ? AND line_number > ? ORDER BY line_number LIMIT ?',
    );
    this.#skippedPage = db.prepare(
      'SELECT line_number, offset, length, kind, reason FROM rebuild_skipped WHERE layer = ? AND line_number > ? ORDER BY line_number LIMIT ?',
    );
  }

  /** Runs `work` in one transaction (BEGIN IMMEDIATE: the rebuild's connection is the only one). */
  inTransaction(work: () => void): void {
    this.#db.transaction(work).immediate();
  }

  stage(entry: StageEntry): void {
    const { place } = entry;
    this.#stage.run(place.layer, entry.seq, place.lineNumber, place.offset, place.length, entry.op, entry.recordId, entry.recordSeq, entry.recordKey, entry.recallCount, entry.counts);
  }

  /** The layer's staged lines after (seq, lineNumber), in seq order and, for one seq, in file order. */
  stagedPage(layer: string, after: { readonly seq: number; readonly lineNumber: number }, limit: number): StagedLine[] {
    return this.#stagedPage.all(layer, after.seq, after.lineNumber, limit);
  }

  skip(place: LinePlace, kind: SkippedLineKind, reason: string): void {
    this.#skip.run(place.layer, place.lineNumber, place.offset, place.length, kind, reason);
  }

  /** The line number that brought the record into the layer's replay, or undefined when it is not there. */
  liveLine(layer: string, id: string): number | undefined {
    return this.#liveLine.get(layer, id);
  }

  enter(layer: string, line: StagedLine): void {
    this.#enter.run(layer, line.record_id, line.record_seq, line.record_key, line.seq, line.seq, line.recall_count, line.line_number, line.offset, line.length);
  }

  /** The record leaves the layer's replay, and so do the versions kept of it there. */
  leave(layer: string, id: string): void {
    this.#leave.run(layer, id);
    this.#dropVersions.run(layer, id);
  }

  /**
   * An update line of a record the layer holds: the line that brought in its previous version is
   * kept as a version, and the update's line brings the record in instead, with the higher of the
   * two recall counts (totals only grow).
   */
  replace(layer: string, line: StagedLine): void {
    this.#keepVersion.run(layer, line.record_id);
    const count = Math.max(line.recall_count ?? 0, this.#liveCount(layer, line.record_id as string));
    this.#leave.run(layer, line.record_id);
    this.#enter.run(layer, line.record_id, line.record_seq, line.record_key, line.seq, line.seq, count, line.line_number, line.offset, line.length);
  }

  #liveCount(layer: string, id: string): number {
    return (this.#db.prepare('SELECT recall_count FROM rebuild_live WHERE layer = ? AND id = ?').pluck().get(layer, id) as number | undefined) ?? 0;
  }

  /** A page of the versions kept of the records live in the layer, in file order. */
  versionsPage(layer: string, afterLine: number, limit: number): VersionLine[] {
    return this.#versionsPage.all(layer, afterLine, limit);
  }

  raiseCount(layer: string, id: string, total: number): void {
    this.#raiseCount.run(total, layer, id);
  }

  /** A snapshot line: every record the layer's replay holds is there as of `seq`. */
  confirm(layer: string, seq: number): void {
    this.#confirm.run(seq, layer, seq);
  }

  /**
   * After every layer is replayed: what one layer's file says against another's. Each step skips
   * the losing record's entering line, so that the records left are unique by id, seq and key:
   *
   * 1. a record in several layers stays in the one whose file has it as of the latest seq (a move
   *    whose move-out line was lost, say); on a tie, in the layer first by name;
   * 2. two records with one seq: the one whose line came first (lower seq) keeps it;
   * 3. two records with one key: the one remembered first (lower seq) keeps it, as remember()
   *    would have returned it for that key.
   */
  resolveAcrossLayers(): void {
    this.inTransaction(() => {
      this.#skipLosers(
        'superseded',
        'PARTITION BY id ORDER BY as_of DESC, layer',
        `CASE WHEN winner.as_of > loser.as_of
           THEN printf('record %s is in layer %s too, as of a later seq (%d, %s.jsonl line %d)', loser.id, winner.layer, winner.as_of, winner.layer, winner.line_number)
           ELSE printf('record %s is in layer %s too, as of the same seq (%s.jsonl line %d), and that layer comes first by name', loser.id, winner.layer, winner.layer, winner.line_number)
         END`,
        'id',
      );
      this.#skipLosers(
        'seq-in-use',
        'PARTITION BY seq ORDER BY line_seq, layer, line_number',
        `printf('seq %d is the seq of record %s too (%s.jsonl line %d), whose line comes first', loser.seq, winner.id, winner.layer, winner.line_number)`,
        'seq',
      );
      this.#skipLosers(
        'key-in-use',
        'PARTITION BY key ORDER BY seq',
        `printf('key %s is the key of record %s too (seq %d, %s.jsonl line %d), remembered earlier', loser.key, winner.id, winner.seq, winner.layer, winner.line_number)`,
        'key',
      );
    });
  }

  /** Skips, and takes out of the replay, every record that is not first in its partition (all in SQL: there may be many). */
  #skipLosers(kind: SkippedLineKind, window: string, reason: string, partitionColumn: 'id' | 'seq' | 'key'): void {
    this.#db
      .prepare(
        `WITH ranked AS (
           SELECT *, row_number() OVER (${window}) AS rank FROM rebuild_live WHERE ${partitionColumn} IS NOT NULL
         )
         INSERT INTO rebuild_skipped (layer, line_number, offset, length, kind, reason)
         SELECT loser.layer, loser.line_number, loser.offset, loser.length, ?, ${reason}
         FROM ranked AS loser JOIN ranked AS winner ON winner.${partitionColumn} = loser.${partitionColumn} AND winner.rank = 1
         WHERE loser.rank > 1`,
      )
      .run(kind);
    this.#db
      .prepare('DELETE FROM rebuild_live WHERE EXISTS (SELECT 1 FROM rebuild_skipped AS s WHERE s.layer = rebuild_live.layer AND s.line_number = rebuild_live.line_number)')
      .run();
  }

  /** A page of the layer's records after the replay, in the order of their lines in the file. */
  livePage(layer: string, afterLine: number, limit: number): LiveRecord[] {
    return this.#livePage.all(layer, afterLine, limit);
  }

  skippedPage(layer: string, afterLine: number, limit: number): SkippedRow[] {
    return this.#skippedPage.all(layer, afterLine, limit);
  }

  /** Skipped lines per layer and kind. */
  skippedCounts(): { readonly layer: string; readonly kind: SkippedLineKind; readonly lines: number }[] {
    return this.#db.prepare('SELECT layer, kind, count(*) AS lines FROM rebuild_skipped GROUP BY layer, kind').all() as {
      layer: string;
      kind: SkippedLineKind;
      lines: number;
    }[];
  }

  /** The highest seq of a line that was applied (staged and not skipped since), or 0. */
  lastAppliedSeq(): number {
    return this.#db
      .prepare(
        `SELECT coalesce(max(seq), 0) FROM rebuild_lines AS line
         WHERE NOT EXISTS (SELECT 1 FROM rebuild_skipped AS s WHERE s.layer = line.layer AND s.line_number = line.line_number)`,
      )
      .pluck()
      .get() as number;
  }

  /** Drops the scratch tables (the connection goes on writing the store). */
  drop(): void {
    this.#db.exec('DROP TABLE temp.rebuild_lines; DROP TABLE temp.rebuild_live; DROP TABLE temp.rebuild_versions; DROP TABLE temp.rebuild_skipped;');
  }
}
