import { v7 as timeOrderedUuid } from 'uuid';
import { statSync } from 'node:fs';
import type Database from 'better-sqlite3';
import type { MemoryRecord } from '../../memory-record.js';
import { recordFromRow } from './sqlite-record.js';
import type { StoreLogger } from '../../store-logger.js';
import type { ValidArchiveSelector } from '../../validate-archive.js';
import type { ValidImportedRecord } from '../../validate-import.js';
import type { ValidRecordInput } from '../../validate-record.js';
import type { WriteOperation, WriteResult } from '../../write-operation.js';
import { SqliteStatements } from './sqlite-statements.js';

export interface SqliteWriterOptions {
  /** The WAL file, watched with stat (never opened). */
  readonly walPath: string;
  /** Past this size, the writer runs a TRUNCATE checkpoint after its commit. */
  readonly walCheckpointBytes: number;
  /** The connection's normal busy_timeout, restored after a checkpoint. */
  readonly busyTimeoutMs: number;
  readonly logger: StoreLogger;
}

/**
 * A checkpoint waits through SQLite's busy handler (blocking this thread) for readers on older
 * snapshots to move on, so it gets a timeout of its own, shorter than the connection's. With
 * readers that never pause it took 60 to 90 ms here, and now and then could not finish at all.
 */
const CHECKPOINT_BUSY_TIMEOUT_MS = 1_000;
/**
 * After a checkpoint that readers kept from finishing, the next try waits: 250 ms, doubling with
 * each failure in a row up to 8 s, so that permanent starvation costs the writer little time.
 */
const CHECKPOINT_RETRY_FIRST_MS = 250;
const CHECKPOINT_RETRY_MAX_MS = 8_000;

export interface CheckpointStats {
  /** TRUNCATE checkpoints that reset the WAL. */
  readonly completed: number;
  /** Checkpoints that readers kept from resetting the WAL (reported to the logger too). */
  readonly starved: number;
}

/**
 * Applies a batch of write operations in one BEGIN IMMEDIATE transaction. The caller holds the
 * store's exclusive flock for the whole call, so after the commit this is also where the WAL is
 * kept bounded: when readers never stop, SQLite's automatic (passive) checkpoints can never
 * restart the WAL, and it would grow without end.
 */
export class SqliteWriter {
  readonly #db: Database.Database;
  readonly #statements: SqliteStatements;
  readonly #options: SqliteWriterOptions;
  readonly #applyInTransaction: Database.Transaction<(operations: readonly WriteOperation[]) => WriteResult[]>;
  #checkpoints = { completed: 0, starved: 0 };
  #nextCheckpointAttempt = 0;
  #checkpointRetryMs = CHECKPOINT_RETRY_FIRST_MS;

  constructor(db: Database.Database, statements: SqliteStatements, options: SqliteWriterOptions) {
    this.#db = db;
    this.#statements = statements;
    this.#options = options;
    this.#applyInTransaction = db.transaction((operations: readonly WriteOperation[]) =>
      operations.map((operation) => this.#applyOne(operation)),
    );
  }

  get checkpoints(): CheckpointStats {
    return { ...this.#checkpoints };
  }

  /** Runs under the flock: BEGIN IMMEDIATE, every operation in order, COMMIT; then the WAL check. */
  apply(operations: readonly WriteOperation[]): WriteResult[] {
    const results = this.#applyInTransaction.immediate(operations);
    this.#checkpointIfLarge();
    return results;
  }

  #applyOne(operation: WriteOperation): WriteResult {
    switch (operation.kind) {
      case 'remember':
        return this.#insert(operation.input);
      case 'forget':
        return this.#forget(operation.id);
      case 'archive':
        return this.#archive(operation.selector);
      case 'add-recall-counts':
        for (const [seq, count] of operation.increments) this.#statements.addRecallCount.run(count, seq);
        return undefined;
      case 'import':
        return this.#import(operation.record);
    }
  }

  #insert(input: ValidRecordInput): MemoryRecord {
    if (input.key !== null) {
      const existing = this.#statements.recordByKey.get(input.key);
      if (existing !== undefined) return recordFromRow(existing);
    }
    return this.#write(input, timeOrderedUuid(), Date.now(), 0);
  }

  /** An exported record, kept as it was, unless its id or key is here already. */
  #import(record: ValidImportedRecord): MemoryRecord | null {
    if (this.#statements.recordById.get(record.id) !== undefined) return null;
    if (record.key !== null && this.#statements.recordByKey.get(record.key) !== undefined) return null;
    return this.#write(record, record.id, record.createdAt, record.recallCount);
  }

  /** Inserts the row, its full-text entry and its tags. */
  #write(input: ValidRecordInput, id: string, createdAt: number, recallCount: number): MemoryRecord {
    const row = {
      id,
      layer: input.layer,
      content: input.content,
      tags: JSON.stringify(input.tags),
      context_path: input.contextPath,
      metadata: input.metadataJson,
      idempotency_key: input.key,
      created_at: createdAt,
      recall_count: recallCount,
    };
    const seq = Number(this.#statements.insertRecord.run(...SqliteStatements.insertParameters(row)).lastInsertRowid);
    this.#statements.indexContent.run(seq, input.content);
    for (const tag of input.tags) this.#statements.insertTag.run(tag, seq);
    // Built from what was just written rather than read back: the same values, one query less.
    return recordFromRow({ ...row, seq });
  }

  #forget(id: string): boolean {
    const row = this.#statements.recordById.get(id);
    if (row === undefined) return false;
    this.#statements.unindexContent.run(row.seq, row.content);
    this.#statements.deleteById.run(id);
    return true;
  }

  #archive(selector: ValidArchiveSelector): number {
    if ('ids' in selector) {
      let moved = 0;
      for (const id of selector.ids) moved += this.#statements.archiveById.run(id).changes;
      return moved;
    }
    if ('createdBefore' in selector) return this.#statements.archiveCreatedBefore.run(selector.createdBefore).changes;
    return this.#statements.archiveRecallCountBelow.run(selector.recallCountBelow).changes;
  }

  #checkpointIfLarge(): void {
    const walBytes = statSync(this.#options.walPath, { throwIfNoEntry: false })?.size ?? 0;
    if (walBytes < this.#options.walCheckpointBytes || Date.now() < this.#nextCheckpointAttempt) return;
    let result: { busy: number; log: number; checkpointed: number } | undefined;
    try {
      this.#db.pragma(`busy_timeout = ${CHECKPOINT_BUSY_TIMEOUT_MS}`);
      [result] = this.#db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number; log: number; checkpointed: number }[];
    } catch (error) {
      // The batch is committed already: a failed checkpoint must not fail its callers.
      this.#options.logger.warn({ walBytes, error: String(error) }, 'memhub: WAL checkpoint failed; retrying later');
    } finally {
      this.#db.pragma(`busy_timeout = ${Math.round(this.#options.busyTimeoutMs)}`);
    }
    if (result !== undefined && result.busy === 0) {
      this.#checkpoints.completed += 1;
      this.#checkpointRetryMs = CHECKPOINT_RETRY_FIRST_MS;
      return;
    }
    this.#checkpoints.starved += 1;
    this.#nextCheckpointAttempt = Date.now() + this.#checkpointRetryMs;
    this.#checkpointRetryMs = Math.min(CHECKPOINT_RETRY_MAX_MS, this.#checkpointRetryMs * 2);
    this.#options.logger.warn(
      { walBytes, ...result },
      'memhub: readers kept the WAL checkpoint from finishing (checkpoint starvation); the WAL keeps growing until they pause',
    );
  }
}
