import type Database from 'better-sqlite3';
import { sql } from 'kysely';
import { queryBuilder } from './sqlite-query-builder.js';
import type { MirrorJournalTable, NewRecordRow, RecordRow, HandedBatchesTable, RecordVersionsTable } from './sqlite-tables.js';

/** A record moved or counted, as the statements that change it return it. */
export interface ChangedRecord {
  readonly id: string;
  readonly layer: string;
  readonly recall_count: number;
}

/** The engine's statements: built once by Kysely from the typed schema, prepared once per connection. */
export class SqliteStatements {
  /** A new record, with named parameters: one per column of `records`. */
  readonly insertRecord: Database.Statement<Required<NewRecordRow>, never>;
  readonly recordById: Database.Statement<unknown[], RecordRow>;
  readonly recordByKey: Database.Statement<unknown[], RecordRow>;
  /** A page of records in seq order: (after seq, limit). */
  readonly recordsAfter: Database.Statement<unknown[], RecordRow>;
  /** A page of one layer's records in seq order: (layer, after seq, limit). */
  readonly layerRecordsAfter: Database.Statement<unknown[], RecordRow>;
  readonly countByLayer: Database.Statement<unknown[], { layer: string; records: number; recall_count_total: number }>;
  readonly deleteById: Database.Statement<unknown[], never>;
  /** Copies a record's current version into record_versions, before an update replaces it. */
  readonly saveVersion: Database.Statement<{ id: string }, never>;
  /** Writes a record's new version, under its new seq. */
  readonly updateRecord: Database.Statement<UpdatedRow, never>;
  /** The versions an update replaced, oldest first (history). */
  readonly versionsOf: Database.Statement<unknown[], RecordVersionsTable>;
  readonly deleteVersions: Database.Statement<unknown[], never>;
  /** Any layer -> archive, by id (maintain()). */
  readonly moveToArchive: Database.Statement<{ id: string }, never>;
  /** application -> archive, each returning the moved records. */
  readonly archiveById: Database.Statement<unknown[], ChangedRecord>;
  readonly archiveCreatedBefore: Database.Statement<unknown[], ChangedRecord>;
  readonly archiveRecallCountBelow: Database.Statement<unknown[], ChangedRecord>;
  /** The ids of `application` records at a contextPath or below it (`path`, and `below` <= path < `beyond`), by criterion. */
  readonly applicationIdsCreatedBefore: Database.Statement<{ path: string; below: string; beyond: string; before: number }, string>;
  readonly applicationIdsRecallCountBelow: Database.Statement<{ path: string; below: string; beyond: string; below_count: number }, string>;
  /** archive -> application, by id, returning the moved record. */
  readonly restoreById: Database.Statement<unknown[], ChangedRecord>;
  /** Commutative: processes add to the count, nobody overwrites it. Returns the new total. */
  readonly addRecallCount: Database.Statement<unknown[], ChangedRecord>;
  readonly lastSeq: Database.Statement<unknown[], number>;
  readonly setLastSeq: Database.Statement<unknown[], never>;
  readonly mirrorSetting: Database.Statement<unknown[], string>;
  /** A journal row, with named parameters: one per column of `mirror_journal`. */
  readonly insertJournal: Database.Statement<MirrorJournalTable, never>;
  /** A layer's changes after a seq, one row per line, with the record each names (if it still exists). */
  readonly journalAfter: Database.Statement<[{ layer: string; after: number; limit: number }], JournalRow>;
  /** Whether the layer has a change after `after` and up to `upTo` (a row, or a run reaching into it). */
  readonly journalBetween: Database.Statement<[{ layer: string; after: number; upTo: number }], unknown>;
  readonly pruneJournal: Database.Statement<unknown[], never>;
  readonly markPruned: Database.Statement<unknown[], never>;
  readonly prunedThrough: Database.Statement<unknown[], number>;
  /** A handed batch's outcome, written by whoever decided it: the leader that committed it, or its owner. */
  readonly insertHandedOutcome: Database.Statement<HandedBatchesTable, never>;
  readonly handedOutcome: Database.Statement<{ batch_id: string }, Pick<HandedBatchesTable, 'results' | 'error'>>;
  /** Deletes at most `limit` outcomes committed before `before`, the oldest first. */
  readonly pruneHandedOutcomes: Database.Statement<{ before: number; limit: number }, never>;
  /** A forgotten record the search index must drop (it lives in another database: sqlite-search-database.ts). */
  readonly addSearchRemoval: Database.Statement<{ change_seq: number; record_seq: number }, never>;
  readonly pruneSearchRemovals: Database.Statement<{ through: number }, never>;

  constructor(db: Database.Database) {
    this.insertRecord = db.prepare(namedInsert('records', RECORD_COLUMNS_LIST));
    const selectRecords = queryBuilder.selectFrom('records').selectAll();
    this.recordById = db.prepare(selectRecords.where('id', '=', '').compile().sql);
    this.recordByKey = db.prepare(selectRecords.where('idempotency_key', '=', '').compile().sql);
    this.recordsAfter = db.prepare(selectRecords.where('seq', '>', 0).orderBy('seq').limit(1).compile().sql);
    this.layerRecordsAfter = db.prepare(selectRecords.where('layer', '=', '').where('seq', '>', 0).orderBy('seq').limit(1).compile().sql);
    this.deleteById = db.prepare(queryBuilder.deleteFrom('records').where('id', '=', '').compile().sql);
    this.saveVersion = db.prepare(
      `INSERT INTO record_versions (seq, id, layer, content, tags, context_path, metadata, written_at)
       SELECT seq, id, layer, content, tags, context_path, metadata, coalesce(updated_at, created_at) FROM records WHERE id = @id`,
    );
    this.updateRecord = db.prepare(
      `UPDATE records SET seq = @seq, layer = @layer, content = @content, tags = @tags, context_path = @context_path,
              metadata = @metadata, updated_at = @updated_at, pinned = @pinned, expires_at = @expires_at WHERE id = @id`,
    );
    this.versionsOf = db.prepare(queryBuilder.selectFrom('record_versions').selectAll().where('id', '=', '').orderBy('seq').compile().sql);
    this.moveToArchive = db.prepare(`UPDATE records SET layer = 'archive' WHERE id = @id`);
    this.deleteVersions = db.prepare(queryBuilder.deleteFrom('record_versions').where('id', '=', '').compile().sql);
    // Literal layer names, so that the only parameter left is the criterion.
    const archive = queryBuilder
      .updateTable('records')
      .set({ layer: sql.lit('archive') })
      .where('layer', '=', sql.lit('application'))
      .returning(['id', 'layer', 'recall_count']);
    this.archiveById = db.prepare(archive.where('id', '=', '').compile().sql);
    this.archiveCreatedBefore = db.prepare(archive.where('created_at', '<', 0).compile().sql);
    this.archiveRecallCountBelow = db.prepare(archive.where('recall_count', '<', 0).compile().sql);
    const inPath = `layer = 'application' AND (context_path = @path OR (context_path >= @below AND context_path < @beyond))`;
    this.applicationIdsCreatedBefore = db.prepare(`SELECT id FROM records WHERE ${inPath} AND created_at < @before`).pluck() as Database.Statement<
      { path: string; below: string; beyond: string; before: number },
      string
    >;
    this.applicationIdsRecallCountBelow = db.prepare(`SELECT id FROM records WHERE ${inPath} AND recall_count < @below_count`).pluck() as Database.Statement<
      { path: string; below: string; beyond: string; below_count: number },
      string
    >;
    this.restoreById = db.prepare(
      queryBuilder
        .updateTable('records')
        .set({ layer: sql.lit('application') })
        .where('layer', '=', sql.lit('archive'))
        .where('id', '=', '')
        .returning(['id', 'layer', 'recall_count'])
        .compile().sql,
    );
    this.addRecallCount = db.prepare(
      queryBuilder
        .updateTable('records')
        .set((eb) => ({ recall_count: eb('recall_count', '+', 0), last_recalled_at: 0 }))
        .where('seq', '=', 0)
        .returning(['id', 'layer', 'recall_count'])
        .compile().sql,
    );
    this.countByLayer = db.prepare(
      queryBuilder
        .selectFrom('records')
        .select([
          'layer',
          (eb) => eb.fn.countAll<number>().as('records'),
          (eb) => eb.fn.sum<number>('recall_count').as('recall_count_total'),
        ])
        .groupBy('layer')
        .orderBy('layer')
        .compile().sql,
    );
    this.lastSeq = db
      .prepare(queryBuilder.selectFrom('store_sequence').select('last_seq').where('id', '=', sql.lit(1)).compile().sql)
      .pluck() as Database.Statement<unknown[], number>;
    this.setLastSeq = db.prepare(queryBuilder.updateTable('store_sequence').set({ last_seq: 0 }).where('id', '=', sql.lit(1)).compile().sql);
    this.mirrorSetting = db
      .prepare(queryBuilder.selectFrom('store_settings').select('value').where('name', '=', sql.lit('mirror')).compile().sql)
      .pluck() as Database.Statement<unknown[], string>;
    this.insertJournal = db.prepare(namedInsert('mirror_journal', JOURNAL_COLUMNS_LIST));
    this.journalAfter = db.prepare(JOURNAL_AFTER_SQL);
    this.journalBetween = db.prepare(
      'SELECT 1 FROM mirror_journal WHERE layer = @layer AND seq <= @upTo AND coalesce(through, seq) > @after LIMIT 1',
    );
    // A run of remembers is pruned once its last record is appended.
    this.pruneJournal = db.prepare(
      queryBuilder.deleteFrom('mirror_journal').where('layer', '=', '').where(sql`coalesce(through, seq)`, '<=', 0).compile().sql,
    );
    this.markPruned = db.prepare(
      queryBuilder
        .insertInto('mirror_layers')
        .values({ layer: '', pruned_through: 0 })
        .onConflict((conflict) =>
          conflict.column('layer').doUpdateSet({ pruned_through: sql`max(pruned_through, excluded.pruned_through)` }),
        )
        .compile().sql,
    );
    this.insertHandedOutcome = db.prepare(namedInsert('handed_batches', ['batch_id', 'results', 'error', 'committed_at']));
    this.handedOutcome = db.prepare('SELECT results, error FROM handed_batches WHERE batch_id = @batch_id');
    // The oldest first, by handed_batches_by_time; DELETE ... LIMIT needs a compile option SQLite's builds may lack.
    this.pruneHandedOutcomes = db.prepare(
      'DELETE FROM handed_batches WHERE batch_id IN (SELECT batch_id FROM handed_batches WHERE committed_at < @before ORDER BY committed_at LIMIT @limit)',
    );
    this.addSearchRemoval = db.prepare(namedInsert('search_removals', ['change_seq', 'record_seq']));
    this.pruneSearchRemovals = db.prepare('DELETE FROM search_removals WHERE change_seq <= @through');
    this.prunedThrough = db
      .prepare(queryBuilder.selectFrom('mirror_layers').select('pruned_through').where('layer', '=', '').compile().sql)
      .pluck() as Database.Statement<unknown[], number>;
  }

}

/**
 * Every column of a table, listed once and checked by the compiler against its row type, so that
 * an insert binds each value by its column's name, never by a position that must match a list.
 */
const RECORD_COLUMNS_LIST = [
  'seq',
  'id',
  'layer',
  'content',
  'tags',
  'context_path',
  'metadata',
  'idempotency_key',
  'created_at',
  'recall_count',
  'updated_at',
  'pinned',
  'expires_at',
  'last_recalled_at',
] as const satisfies readonly (keyof NewRecordRow)[];
const JOURNAL_COLUMNS_LIST = ['layer', 'seq', 'op', 'through', 'record_id', 'detail'] as const satisfies readonly (keyof MirrorJournalTable)[];

/** Compiles only when `Listed` names every column of `Row`. */
type EveryColumn<Row, Listed extends keyof Row> = Exclude<keyof Row, Listed> extends never ? true : never;
const everyRecordColumn: EveryColumn<Required<NewRecordRow>, (typeof RECORD_COLUMNS_LIST)[number]> = true;
const everyJournalColumn: EveryColumn<MirrorJournalTable, (typeof JOURNAL_COLUMNS_LIST)[number]> = true;
void everyRecordColumn;
void everyJournalColumn;

/** `INSERT INTO table (a, b) VALUES (@a, @b)`: better-sqlite3 binds an object's properties by name. */
function namedInsert(table: string, columns: readonly string[]): string {
  return `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map((column) => `@${column}`).join(', ')})`;
}

/**
 * A layer's changes after a seq, one row per line to append, in seq order: each record of a run of
 * remembers (the run's row stands for all of them; a record since forgotten or moved away is no
 * longer in the layer and drops out), and every other change with the record it names, if that
 * record still exists. Named parameters: a union is clearer written out than built.
 */
const RECORD_COLUMNS =
  'r.seq, r.id, r.layer, r.content, r.tags, r.context_path, r.metadata, r.idempotency_key, r.created_at, r.recall_count, r.updated_at, r.pinned, r.expires_at, r.last_recalled_at';
const JOURNAL_AFTER_SQL = `
  SELECT r.seq AS line_seq, 'remember' AS op, NULL AS record_id, NULL AS detail, ${RECORD_COLUMNS}
    FROM mirror_journal j
    JOIN records r ON r.layer = j.layer AND r.seq BETWEEN j.seq AND j.through
   WHERE j.layer = @layer AND j.op = 'remember' AND j.through > @after AND r.seq > @after
  UNION ALL
  SELECT j.seq AS line_seq, j.op, j.record_id, j.detail, ${RECORD_COLUMNS}
    FROM mirror_journal j
    LEFT JOIN records r ON r.id = j.record_id
   WHERE j.layer = @layer AND j.op <> 'remember' AND j.seq > @after
  ORDER BY line_seq
  LIMIT @limit`;

/** A change as journalAfter reads it; the record's columns are null when it is gone. */
export interface JournalRow {
  readonly line_seq: number;
  readonly op: MirrorJournalTable['op'];
  readonly record_id: string | null;
  readonly detail: string | null;
  readonly seq: number | null;
  readonly id: string | null;
  readonly layer: string | null;
  readonly content: string | null;
  readonly tags: string | null;
  readonly context_path: string | null;
  readonly metadata: string | null;
  readonly idempotency_key: string | null;
  readonly created_at: number | null;
  readonly recall_count: number | null;
  readonly updated_at: number | null;
  readonly pinned: number | null;
  readonly expires_at: number | null;
  readonly last_recalled_at: number | null;
}

/** What updateRecord writes: a record's new version, by its id. */
export interface UpdatedRow {
  readonly id: string;
  readonly seq: number;
  readonly layer: string;
  readonly content: string;
  readonly tags: string;
  readonly context_path: string;
  readonly metadata: string;
  readonly updated_at: number;
  readonly pinned: number;
  readonly expires_at: number | null;
}
