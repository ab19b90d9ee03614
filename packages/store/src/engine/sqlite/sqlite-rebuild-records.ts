import type Database from 'better-sqlite3';
import { StoreIOError } from '../../errors.js';
import { hitFaultPoint } from '../../fault-points.js';
import { BATCH_CONTENT_CHARS } from '../../page-sizer.js';
import type { LayerFileReader } from './sqlite-rebuild-file.js';
import { checkRebuildLine, SkippedLine, type RebuildRecord } from './sqlite-rebuild-lines.js';
import type { RebuildStaging } from './sqlite-rebuild-staging.js';

/** Records written per transaction, or fewer once they hold BATCH_CONTENT_CHARS of content (records may be 1 MiB each). */
const BATCH = 2_000;

/**
 * Writes a layer's records, as its replay left them (rebuild_live), into `records` (the search
 * index is brought up to date once they are all written, see replayLayers): each record read again from its entering line in the file
 * (the staging tables keep no content), with the recall count its later lines raised it to. In
 * transactions of at most BATCH records or BATCH_CONTENT_CHARS of content, so the WAL stays
 * bounded. Returns how many it wrote.
 */
export function writeLayerRecords(db: Database.Database, staging: RebuildStaging, layer: string, file: LayerFileReader): number {
  const insert = new RecordInserter(db);
  let written = 0;
  let batch: { record: RebuildRecord; recallCount: number }[] = [];
  let batchChars = 0;
  const flush = () => {
    const records = batch;
    batch = [];
    batchChars = 0;
    db.transaction(() => {
      for (const { record, recallCount } of records) insert.record(record, layer, recallCount);
    }).immediate();
    written += records.length;
    hitFaultPoint('rebuild-mid-replay');
  };
  for (let afterLine = 0; ; ) {
    const page = staging.livePage(layer, afterLine, BATCH);
    for (const live of page) {
      const record = readRecord(file, layer, live);
      batch.push({ record, recallCount: live.recall_count });
      batchChars += record.content.length;
      if (batch.length >= BATCH || batchChars >= BATCH_CONTENT_CHARS) flush();
    }
    if (page.length < BATCH) break;
    afterLine = (page[page.length - 1] as (typeof page)[number]).line_number;
  }
  if (batch.length > 0) flush();
  writeLayerVersions(db, staging, layer, file);
  return written;
}

/**
 * The earlier versions that update lines replaced, of the records the layer holds
 * (record_versions), in transactions bounded as the records' are.
 */
function writeLayerVersions(db: Database.Database, staging: RebuildStaging, layer: string, file: LayerFileReader): void {
  const insert = db.prepare(
    `INSERT OR IGNORE INTO record_versions (seq, id, layer, content, tags, context_path, metadata, written_at)
     VALUES (@seq, @id, @layer, @content, @tags, @context_path, @metadata, @written_at)`,
  );
  let batch: RebuildRecord[] = [];
  let batchChars = 0;
  const flush = () => {
    const versions = batch;
    batch = [];
    batchChars = 0;
    db.transaction(() => {
      for (const record of versions) {
        insert.run({
          seq: record.seq,
          id: record.id,
          layer,
          content: record.content,
          tags: record.tagsJson,
          context_path: record.contextPath,
          metadata: record.metadataJson,
          written_at: record.updatedAt ?? record.createdAt,
        });
      }
    }).immediate();
  };
  for (let afterLine = 0; ; ) {
    const page = staging.versionsPage(layer, afterLine, BATCH);
    for (const version of page) {
      const record = readRecord(file, layer, version);
      batch.push(record);
      batchChars += record.content.length;
      if (batch.length >= BATCH || batchChars >= BATCH_CONTENT_CHARS) flush();
    }
    if (page.length < BATCH) break;
    afterLine = (page[page.length - 1] as (typeof page)[number]).line_number;
  }
  if (batch.length > 0) flush();
}
/** The record of an entering line, read again: the file must still hold the line that was checked. */
function readRecord(file: LayerFileReader, layer: string, live: { readonly id: string; readonly line_number: number; readonly offset: number; readonly length: number }): RebuildRecord {
  const text = file.read(live.offset, live.length).toString('utf8');
  try {
    const line = checkRebuildLine(text, layer);
    if ((line.op === 'remember' || line.op === 'update' || line.op === 'move-in') && line.record.id === live.id) return line.record;
  } catch (error) {
    if (!(error instanceof SkippedLine)) throw error;
  }
  throw new StoreIOError(
    `${file.path} changed while the rebuild read it (line ${live.line_number} is not the line it was): ` +
      'stop every process and tool that writes to the store, and run the rebuild again',
  );
}

/** The statement that adds one record's row (the search index follows, see SqliteSearchDatabase). */
class RecordInserter {
  readonly #insert: Database.Statement;

  constructor(db: Database.Database) {
    this.#insert = db.prepare(
      `INSERT INTO records (seq, id, layer, content, tags, context_path, metadata, idempotency_key, created_at, recall_count, updated_at, pinned, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
  }

  record(record: RebuildRecord, layer: string, recallCount: number): void {
    this.#insert.run(
      record.seq,
      record.id,
      layer,
      record.content,
      record.tagsJson,
      record.contextPath,
      record.metadataJson,
      record.key,
      record.createdAt,
      recallCount,
      record.updatedAt,
      record.pinned ? 1 : 0,
      record.expiresAt,
    );
  }
}
