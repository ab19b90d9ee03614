import type Database from 'better-sqlite3';
import { sql } from 'kysely';
import { queryBuilder } from './sqlite-query-builder.js';
import type { NewRecordRow, RecordRow } from './sqlite-tables.js';

/** The engine's hot statements: built once by Kysely, prepared once per connection. */
export class SqliteStatements {
  readonly insertRecord: Database.Statement<unknown[], never>;
  readonly insertTag: Database.Statement<unknown[], never>;
  readonly recordById: Database.Statement<unknown[], RecordRow>;
  readonly recordByKey: Database.Statement<unknown[], RecordRow>;
  /** A page of records in seq order: (after seq, limit). */
  readonly recordsAfter: Database.Statement<unknown[], RecordRow>;
  readonly countByLayer: Database.Statement<unknown[], { layer: string; records: number; recall_count_total: number }>;
  readonly deleteById: Database.Statement<unknown[], never>;
  readonly indexContent: Database.Statement<unknown[], never>;
  readonly unindexContent: Database.Statement<unknown[], never>;
  readonly archiveById: Database.Statement<unknown[], never>;
  readonly archiveCreatedBefore: Database.Statement<unknown[], never>;
  readonly archiveRecallCountBelow: Database.Statement<unknown[], never>;
  /** Commutative: processes add to the count, nobody overwrites it. */
  readonly addRecallCount: Database.Statement<unknown[], never>;

  constructor(db: Database.Database) {
    const sample: Required<Omit<NewRecordRow, 'seq'>> = {
      id: '',
      layer: '',
      content: '',
      tags: '',
      context_path: '',
      metadata: '',
      idempotency_key: null,
      created_at: 0,
      recall_count: 0,
    };
    this.insertRecord = db.prepare(queryBuilder.insertInto('records').values(sample).compile().sql);
    this.insertTag = db.prepare(queryBuilder.insertInto('record_tags').values({ tag: '', record_seq: 0 }).compile().sql);
    const selectRecords = queryBuilder.selectFrom('records').selectAll();
    this.recordById = db.prepare(selectRecords.where('id', '=', '').compile().sql);
    this.recordByKey = db.prepare(selectRecords.where('idempotency_key', '=', '').compile().sql);
    this.recordsAfter = db.prepare(selectRecords.where('seq', '>', 0).orderBy('seq').limit(1).compile().sql);
    this.deleteById = db.prepare(queryBuilder.deleteFrom('records').where('id', '=', '').compile().sql);
    this.indexContent = db.prepare(queryBuilder.insertInto('records_fts').values({ rowid: 0, content: '' }).compile().sql);
    // FTS5's delete command for an external-content table: the row's old content, by rowid.
    this.unindexContent = db.prepare(
      queryBuilder.insertInto('records_fts').values({ records_fts: sql.lit('delete'), rowid: 0, content: '' }).compile().sql,
    );
    // Literal layer names, so that the only parameter left is the criterion.
    const archive = queryBuilder
      .updateTable('records')
      .set({ layer: sql.lit('archive') })
      .where('layer', '=', sql.lit('application'));
    this.archiveById = db.prepare(archive.where('id', '=', '').compile().sql);
    this.archiveCreatedBefore = db.prepare(archive.where('created_at', '<', 0).compile().sql);
    this.archiveRecallCountBelow = db.prepare(archive.where('recall_count', '<', 0).compile().sql);
    this.addRecallCount = db.prepare(
      queryBuilder
        .updateTable('records')
        .set((eb) => ({ recall_count: eb('recall_count', '+', 0) }))
        .where('seq', '=', 0)
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
  }

  /** Binds a new record in the column order of the compiled insert. */
  static insertParameters(row: Required<Omit<NewRecordRow, 'seq'>>): unknown[] {
    return [row.id, row.layer, row.content, row.tags, row.context_path, row.metadata, row.idempotency_key, row.created_at, row.recall_count];
  }
}
