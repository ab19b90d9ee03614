import type Database from 'better-sqlite3';
import type { MemoryRecord } from '../../memory-record.js';
import { mirrorLineOf, snapshotLineOf } from '../../changes/change-codec.js';
import type { EncodedLine } from '../../mirror/mirror-line.js';
import type { ChangesPage, MirrorSource } from '../../mirror/mirror-source.js';
import { queryBuilder } from './sqlite-query-builder.js';
import { recordFromRow } from './sqlite-record.js';
import { changeOfJournalRow, isMirrored, parseMirrorSetting, storedRecordOfRow } from './sqlite-change-journal.js';
import type { SqliteStatements } from './sqlite-statements.js';
import type { RecordRow } from './sqlite-tables.js';

/**
 * The mirror's view of the SQLite database: the journal's changes as lines to append (joined with
 * the records they name, read when they are appended), and a layer's records for rebuilds and
 * verify. Reads only; every write of the store goes through the writer.
 */
export class SqliteMirrorSource implements MirrorSource {
  readonly #db: Database.Database;
  readonly #statements: SqliteStatements;
  readonly #layersWithChanges: Database.Statement<unknown[], string>;
  readonly #layersWithRecords: Database.Statement<unknown[], string>;

  constructor(db: Database.Database, statements: SqliteStatements) {
    this.#db = db;
    this.#statements = statements;
    const distinctLayers = (table: 'mirror_journal' | 'records') =>
      db.prepare(queryBuilder.selectFrom(table).select('layer').distinct().compile().sql).pluck() as Database.Statement<unknown[], string>;
    this.#layersWithChanges = distinctLayers('mirror_journal');
    this.#layersWithRecords = distinctLayers('records');
  }

  changesAfter(layer: string, afterSeq: number, limit: number): ChangesPage {
    const rows = this.#statements.journalAfter.all({ layer, after: afterSeq, limit });
    const lines: EncodedLine[] = [];
    for (const row of rows) {
      const change = changeOfJournalRow(layer, row);
      const line = change === undefined ? undefined : mirrorLineOf(change, layer);
      if (line !== undefined) lines.push(line);
    }
    return { lines, lastSeq: rows[rows.length - 1]?.line_seq ?? afterSeq, complete: rows.length < limit };
  }

  prunedThrough(layer: string): number {
    return (this.#statements.prunedThrough.get(layer) as number | undefined) ?? 0;
  }

  lastSeq(): number {
    return this.#statements.lastSeq.get() as number;
  }

  *layerRecords(layer: string): Iterable<MemoryRecord> {
    for (const row of this.#layerRows(layer)) yield recordFromRow(row);
  }

  *snapshotLines(layer: string): Iterable<EncodedLine> {
    for (const row of this.#layerRows(layer)) yield snapshotLineOf(storedRecordOfRow(row));
  }

  hasChangesBetween(layer: string, after: number, upTo: number): boolean {
    return this.#statements.journalBetween.get({ layer, after, upTo }) !== undefined;
  }

  /**
   * The layer's records in seq order, one row at a time (a record may be as large as the content
   * limit, 1 MiB by default, so no page of them is held). The statement stays open while the
   * caller iterates, so the caller runs no other statement on this connection meanwhile: verify
   * and rebuild only compare and write files, inside one read transaction.
   */
  *#layerRows(layer: string): Iterable<RecordRow> {
    yield* this.#statements.layerRecordsAfter.iterate(layer, 0, -1);
  }

  inReadTransaction<T>(read: () => T): T {
    // A deferred transaction that only reads: it takes no write lock, and pins one snapshot.
    return this.#db.transaction(read).deferred();
  }

  layersWithChanges(): readonly string[] {
    return this.#layersWithChanges.all();
  }

  layersWithRecords(): readonly string[] {
    return this.#layersWithRecords.all();
  }

  isMirrored(layer: string): boolean {
    return isMirrored(parseMirrorSetting(this.#statements.mirrorSetting.get()), layer);
  }
}
