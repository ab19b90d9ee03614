import type Database from 'better-sqlite3';
import type { StoreChange, StoredRecord } from '../../changes/store-change.js';
import type { MemoryRecord } from '../../memory-record.js';
import { recordJsonTail } from '../../mirror/mirror-line.js';
import { newRecordId } from '../../record-id.js';
import type { ValidArchiveSelector } from '../../validate-archive.js';
import type { ValidImportedRecord } from '../../validate-import.js';
import type { ValidRecordInput } from '../../validate-record.js';
import type { WriteOperation, WriteResult } from '../../write-operation.js';
import { ChangeJournal, isMirrored, parseMirrorSetting, storedRecordOfRow, type MirrorSelection } from './sqlite-change-journal.js';
import { recordFromRow } from './sqlite-record.js';
import type { SqliteSearchIndex } from './sqlite-search-index.js';
import type { ChangedRecord, SqliteStatements } from './sqlite-statements.js';
import type { RecordRow } from './sqlite-tables.js';

export { isMirrored, parseMirrorSetting, type MirrorSelection } from './sqlite-change-journal.js';

/** What one transaction did. */
export interface AppliedBatch {
  /** One result per operation, in order. */
  readonly results: WriteResult[];
  /** Every change the transaction made, in seq order: what the views (the layer mirrors) follow. */
  readonly changes: readonly StoreChange[];
  /** The mirrored layers this transaction wrote journal rows for: their JSONL files are behind now. */
  readonly touchedLayers: ReadonlySet<string>;
  /** The store's last seq before this transaction: every seq above it, up to its last, is this transaction's. */
  readonly startSeq: number;
  /** Records this transaction added to the search index (the tail it found due, see SqliteSearchIndex). */
  readonly indexed: number;
}

/**
 * What a new record needs that does not depend on the database: its id, its time, its tags as
 * JSON and, for a mirrored layer, its record JSON but for the seq. prepare() makes them before the
 * write lock is taken, so that the lock is held for the SQL alone (they were a tenth of the hold
 * at 64 records a commit).
 */
export interface PreparedRecord {
  readonly id: string;
  /** When the batch was prepared, right before the write lock was asked for: the time of the call, not of its commit. */
  readonly createdAt: number;
  readonly createdAtIso: string;
  readonly tagsJson: string;
  /** recordJsonTail() of the record with a recall count of 0; undefined when its layer was not mirrored. */
  readonly recordTail: string | undefined;
}

/** One PreparedRecord per remember of a batch, undefined for its other operations. */
export type PreparedBatch = readonly (PreparedRecord | undefined)[];

/**
 * Applies a batch of write operations in one BEGIN IMMEDIATE transaction; the caller holds the
 * store's exclusive flock for the whole call. The transaction holds what must be atomic: the
 * records, the seq counter and the mirror journal; the search index follows (SqliteSearchIndex),
 * and the layer mirrors are appended after the commit from the changes it returns.
 *
 * Every change takes the next seq of the one store-wide counter, read once and written once per
 * transaction. Journal rows already appended (as the mirror reports) are pruned here too, in the
 * transaction that is being paid for anyway.
 */
export class SqliteWriter {
  readonly #statements: SqliteStatements;
  readonly #search: SqliteSearchIndex;
  readonly #journal: ChangeJournal;
  readonly #applyInTransaction: Database.Transaction<
    (operations: readonly WriteOperation[], prune: ReadonlyMap<string, number>, prepared: PreparedBatch, beforeCommit: () => void) => AppliedBatch
  >;
  /** State of the transaction in progress. */
  #lastSeq = 0;
  #changes: StoreChange[] = [];
  /** The mirror setting as the last transaction read it (prepare() builds record JSON for mirrored layers only). */
  #mirror: MirrorSelection = { kind: 'all' };

  constructor(db: Database.Database, statements: SqliteStatements, search: SqliteSearchIndex) {
    this.#statements = statements;
    this.#search = search;
    this.#journal = new ChangeJournal(statements);
    this.#applyInTransaction = db.transaction(
      (operations: readonly WriteOperation[], prune: ReadonlyMap<string, number>, prepared: PreparedBatch, beforeCommit: () => void) => {
        const startSeq = this.#statements.lastSeq.get() as number;
        this.#lastSeq = startSeq;
        this.#changes = [];
        this.#mirror = parseMirrorSetting(this.#statements.mirrorSetting.get());
        for (const [layer, through] of prune) {
          this.#statements.pruneJournal.run(layer, through);
          this.#statements.markPruned.run(layer, through);
        }
        const results = operations.map((operation, index) => this.#applyOne(operation, prepared[index]));
        const changes = this.#changes;
        const touchedLayers = this.#journal.write(changes, this.#mirror);
        if (this.#lastSeq !== startSeq) this.#statements.setLastSeq.run(this.#lastSeq);
        // The search index follows in batches: this transaction indexes the tail when it is due.
        const indexed = this.#search.isDue(this.#lastSeq, Date.now()) ? this.#search.catchUp(this.#lastSeq) : 0;
        beforeCommit();
        return { results, changes, touchedLayers, startSeq, indexed };
      },
    );
  }

  /**
   * Before the write lock: the id, time and JSON of each remember (see PreparedRecord), in the
   * order of `operations`. Whether a layer is mirrored is taken from the last transaction's view
   * of the setting; a transaction that finds otherwise builds what is missing itself.
   */
  prepare(operations: readonly WriteOperation[]): PreparedBatch {
    const createdAt = Date.now();
    const createdAtIso = new Date(createdAt).toISOString();
    return operations.map((operation) => {
      if (operation.kind !== 'remember') return undefined;
      const { input } = operation;
      const tagsJson = JSON.stringify(input.tags);
      const recordTail = isMirrored(this.#mirror, input.layer)
        ? recordJsonTail({
            content: input.content,
            tagsJson,
            contextPath: input.contextPath,
            layer: input.layer,
            createdAt: createdAtIso,
            recallCount: 0,
            metadataJson: input.metadataJson,
            key: input.key,
          })
        : undefined;
      return { id: newRecordId(), createdAt, createdAtIso, tagsJson, recordTail };
    });
  }

  /**
   * Runs under the flock: BEGIN IMMEDIATE, the pruning of journal rows already mirrored (layer ->
   * last seq appended), every operation in order, its journal rows, `beforeCommit` (which may
   * throw to roll it all back), COMMIT.
   */
  apply(
    operations: readonly WriteOperation[],
    prune: ReadonlyMap<string, number> = new Map(),
    prepared: PreparedBatch = this.prepare(operations),
    beforeCommit: () => void = () => {},
  ): AppliedBatch {
    return this.#applyInTransaction.immediate(operations, prune, prepared, beforeCommit);
  }

  #applyOne(operation: WriteOperation, prepared: PreparedRecord | undefined): WriteResult {
    switch (operation.kind) {
      case 'remember':
        return this.#remember(operation.input, prepared ?? (this.prepare([operation])[0] as PreparedRecord));
      case 'forget':
        return this.#forget(operation.id);
      case 'archive':
        return this.#archive(operation.selector);
      case 'add-recall-counts':
        return this.#addRecallCounts(operation.increments);
      case 'import':
        return this.#import(operation.record);
    }
  }

  #remember(input: ValidRecordInput, prepared: PreparedRecord): MemoryRecord {
    if (input.key !== null) {
      const existing = this.#statements.recordByKey.get(input.key);
      if (existing !== undefined) return recordFromRow(existing);
    }
    return this.#insert(input, prepared, 0);
  }

  /** An exported record, kept as it was, unless its id or key is here already. */
  #import(record: ValidImportedRecord): MemoryRecord | null {
    if (this.#statements.recordById.get(record.id) !== undefined) return null;
    if (record.key !== null && this.#statements.recordByKey.get(record.key) !== undefined) return null;
    const prepared = {
      id: record.id,
      createdAt: record.createdAt,
      createdAtIso: new Date(record.createdAt).toISOString(),
      tagsJson: JSON.stringify(record.tags),
      recordTail: undefined,
    };
    return this.#insert(record, prepared, record.recallCount);
  }

  /** Inserts the row; the search index follows later (see SqliteSearchIndex), the journal row with the transaction's others. */
  #insert(input: ValidRecordInput, prepared: PreparedRecord, recallCount: number): MemoryRecord {
    const stored: StoredRecord = {
      id: prepared.id,
      seq: this.#nextSeq(),
      content: input.content,
      tagsJson: prepared.tagsJson,
      contextPath: input.contextPath,
      layer: input.layer,
      createdAt: prepared.createdAt,
      recallCount,
      metadataJson: input.metadataJson,
      key: input.key,
    };
    this.#statements.insertRecord.run({
      seq: stored.seq,
      id: stored.id,
      layer: stored.layer,
      content: stored.content,
      tags: stored.tagsJson,
      context_path: stored.contextPath,
      metadata: stored.metadataJson,
      idempotency_key: stored.key,
      created_at: stored.createdAt,
      recall_count: stored.recallCount,
    });
    this.#changes.push({
      kind: 'remember',
      seq: stored.seq,
      record: stored,
      ...(prepared.recordTail === undefined ? {} : { recordTail: prepared.recordTail }),
    });
    // Built from what was just written rather than read back or parsed again: the tags array is
    // the validated copy, and the metadata is parsed from its JSON so that the caller gets its own.
    return {
      id: stored.id,
      seq: stored.seq,
      content: input.content,
      tags: input.tags,
      contextPath: input.contextPath,
      layer: input.layer,
      createdAt: prepared.createdAtIso,
      recallCount,
      metadata: input.metadataJson === '{}' ? {} : (JSON.parse(input.metadataJson) as Record<string, unknown>),
      key: input.key,
    };
  }

  #forget(id: string): boolean {
    const row = this.#statements.recordById.get(id);
    if (row === undefined) return false;
    this.#search.unindex(row);
    this.#statements.deleteById.run(id);
    this.#changes.push({ kind: 'forget', seq: this.#nextSeq(), id, layer: row.layer });
    return true;
  }

  #archive(selector: ValidArchiveSelector): number {
    let moved: ChangedRecord[];
    if ('ids' in selector) {
      moved = [];
      for (const id of selector.ids) moved.push(...this.#statements.archiveById.all(id));
    } else if ('createdBefore' in selector) {
      moved = this.#statements.archiveCreatedBefore.all(selector.createdBefore);
    } else {
      moved = this.#statements.archiveRecallCountBelow.all(selector.recallCountBelow);
    }
    for (const record of moved) {
      const row = this.#statements.recordById.get(record.id) as RecordRow;
      this.#changes.push({ kind: 'move', seq: this.#nextSeq(), id: record.id, from: 'application', to: 'archive', record: storedRecordOfRow(row) });
    }
    return moved.length;
  }

  /**
   * Adds the increments (commutative: processes add to a count, nobody overwrites it), and notes
   * the new totals under one seq: a mirror keeps totals, not increments, so replaying a line twice
   * cannot count twice.
   */
  #addRecallCounts(increments: ReadonlyMap<number, number>): undefined {
    const totals: { id: string; layer: string; total: number }[] = [];
    for (const [seq, count] of increments) {
      for (const record of this.#statements.addRecallCount.all(count, seq)) {
        if (isMirrored(this.#mirror, record.layer)) totals.push({ id: record.id, layer: record.layer, total: record.recall_count });
      }
    }
    if (totals.length > 0) this.#changes.push({ kind: 'recall-counts', seq: this.#nextSeq(), totals });
    return undefined;
  }

  #nextSeq(): number {
    this.#lastSeq += 1;
    return this.#lastSeq;
  }
}
