import type Database from 'better-sqlite3';
import { newRecordId } from '../../record-id.js';
import type { MemoryRecord } from '../../memory-record.js';
import type { ValidArchiveSelector } from '../../validate-archive.js';
import type { ValidImportedRecord } from '../../validate-import.js';
import type { ValidRecordInput } from '../../validate-record.js';
import type { WriteOperation, WriteResult } from '../../write-operation.js';
import { encodeLine, recordJsonTail, type EncodedLine } from '../../mirror/mirror-line.js';
import { moveInLine, rememberLine, rememberLineFromTail } from './sqlite-mirror-lines.js';
import { recordFromRow } from './sqlite-record.js';
import type { SqliteSearchIndex } from './sqlite-search-index.js';
import { SqliteStatements, type ChangedRecord } from './sqlite-statements.js';
import type { MirrorOp, RecordRow } from './sqlite-tables.js';

/** What one transaction did. */
export interface AppliedBatch {
  /** One result per operation, in order. */
  readonly results: WriteResult[];
  /** The mirrored layers this transaction wrote journal rows for: their JSONL files are behind now. */
  readonly touchedLayers: ReadonlySet<string>;
  /** The store's last seq before this transaction: every seq above it, up to its last, is this transaction's. */
  readonly startSeq: number;
  /** This transaction's lines for each mirrored layer, as the mirror would read them back (see JsonlMirror.afterCommit). */
  readonly lines: ReadonlyMap<string, readonly EncodedLine[]>;
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

/** Which layers are mirrored, as `store_settings.mirror` says: every one, some, or none. */
export type MirrorSelection = { readonly kind: 'all' } | { readonly kind: 'some'; readonly layers: ReadonlySet<string> } | { readonly kind: 'off' };

export function parseMirrorSetting(value: string | undefined): MirrorSelection {
  if (value === undefined || value === '*') return { kind: 'all' };
  if (value === 'off') return { kind: 'off' };
  return { kind: 'some', layers: new Set(JSON.parse(value) as string[]) };
}

export function isMirrored(selection: MirrorSelection, layer: string): boolean {
  return selection.kind === 'all' || (selection.kind === 'some' && selection.layers.has(layer));
}

/**
 * Applies a batch of write operations in one BEGIN IMMEDIATE transaction; the caller holds the
 * store's exclusive flock for the whole call. The transaction holds what must be atomic: the
 * records, the seq counter and the mirror journal; the search index follows (SqliteSearchIndex).
 *
 * Every change takes the next seq of the one store-wide counter, read once and written once per
 * transaction. A change of a mirrored layer also writes a journal row in the same transaction,
 * so the layer's JSONL mirror can always be brought up to date from the database, whoever
 * commits and whoever crashes. Journal rows already appended (as the mirror reports) are pruned
 * here too, in the transaction that is being paid for anyway.
 */
export class SqliteWriter {
  readonly #statements: SqliteStatements;
  readonly #search: SqliteSearchIndex;
  readonly #applyInTransaction: Database.Transaction<
    (operations: readonly WriteOperation[], prune: ReadonlyMap<string, number>, prepared: PreparedBatch, beforeCommit: () => void) => AppliedBatch
  >;
  /** State of the transaction in progress. */
  #lastSeq = 0;
  #mirror: MirrorSelection = { kind: 'all' };
  #touched = new Set<string>();
  #lines = new Map<string, EncodedLine[]>();
  /** The run of consecutive remembers into one layer that the next remember may extend. */
  #run: { layer: string; first: number; last: number } | undefined;

  constructor(db: Database.Database, statements: SqliteStatements, search: SqliteSearchIndex) {
    this.#statements = statements;
    this.#search = search;
    this.#applyInTransaction = db.transaction(
      (operations: readonly WriteOperation[], prune: ReadonlyMap<string, number>, prepared: PreparedBatch, beforeCommit: () => void) => {
        const startSeq = this.#statements.lastSeq.get() as number;
        this.#lastSeq = startSeq;
        this.#mirror = parseMirrorSetting(this.#statements.mirrorSetting.get());
        this.#touched = new Set();
        this.#lines = new Map();
        this.#run = undefined;
        for (const [layer, through] of prune) {
          this.#statements.pruneJournal.run(layer, through);
          this.#statements.markPruned.run(layer, through);
        }
        const results = operations.map((operation, index) => this.#applyOne(operation, prepared[index]));
        this.#closeRun();
        if (this.#lastSeq !== startSeq) this.#statements.setLastSeq.run(this.#lastSeq);
        // The search index follows in batches: this transaction indexes the tail when it is due.
        const indexed = this.#search.isDue(this.#lastSeq, Date.now()) ? this.#search.catchUp(this.#lastSeq) : 0;
        beforeCommit();
        return { results, touchedLayers: this.#touched, startSeq, lines: this.#lines, indexed };
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
   * last seq appended), every operation in order, `beforeCommit` (which may throw to roll it all
   * back), COMMIT.
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

  /** Inserts the row and its journal row; the search index follows later (see SqliteSearchIndex). */
  #insert(input: ValidRecordInput, prepared: PreparedRecord, recallCount: number): MemoryRecord {
    const { id, createdAt } = prepared;
    const row = {
      seq: this.#nextSeq(),
      id,
      layer: input.layer,
      content: input.content,
      tags: prepared.tagsJson,
      context_path: input.contextPath,
      metadata: input.metadataJson,
      idempotency_key: input.key,
      created_at: createdAt,
      recall_count: recallCount,
    };
    this.#statements.insertRecord.run(...SqliteStatements.insertParameters(row));
    if (this.#journalRemember(row.layer, row.seq)) {
      const line =
        prepared.recordTail !== undefined && recallCount === 0
          ? rememberLineFromTail(row.seq, id, prepared.recordTail)
          : rememberLine(row.seq, row, row.layer);
      this.#addLine(row.layer, line);
    }
    // Built from what was just written rather than read back or parsed again: the tags array is
    // the validated copy, and the metadata is parsed from its JSON so that the caller gets its own.
    return {
      id,
      seq: row.seq,
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
    const seq = this.#nextSeq();
    this.#journal(row.layer, seq, 'forget', id, null, () => encodeLine({ v: 1, seq, op: 'forget', id }));
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
      // One change, one seq, seen from both sides: it leaves one layer's file and enters the other's.
      const seq = this.#nextSeq();
      this.#journal('application', seq, 'move-out', record.id, '{"to":"archive"}', () =>
        encodeLine({ v: 1, seq, op: 'move-out', id: record.id, to: 'archive' }),
      );
      this.#journal('archive', seq, 'move-in', record.id, '{"from":"application"}', () =>
        moveInLine(seq, this.#statements.recordById.get(record.id) as RecordRow, 'archive', 'application'),
      );
    }
    return moved.length;
  }

  /**
   * Adds the increments, and journals the new totals: one row per mirrored layer, under one seq.
   * A mirror keeps totals, not increments, so replaying a line twice cannot count twice.
   */
  #addRecallCounts(increments: ReadonlyMap<number, number>): undefined {
    const totalsByLayer = new Map<string, Record<string, number>>();
    for (const [seq, count] of increments) {
      for (const record of this.#statements.addRecallCount.all(count, seq)) {
        if (!isMirrored(this.#mirror, record.layer)) continue;
        let totals = totalsByLayer.get(record.layer);
        if (totals === undefined) totalsByLayer.set(record.layer, (totals = {}));
        totals[record.id] = record.recall_count;
      }
    }
    if (totalsByLayer.size > 0) {
      const seq = this.#nextSeq();
      for (const [layer, counts] of totalsByLayer) {
        this.#journal(layer, seq, 'recall-counts', null, JSON.stringify({ counts }), () => encodeLine({ v: 1, seq, op: 'recall-counts', counts }));
      }
    }
    return undefined;
  }

  #nextSeq(): number {
    this.#lastSeq += 1;
    return this.#lastSeq;
  }

  /** A change of a mirrored layer: its journal row, and its line for the append after the commit. */
  #journal(layer: string, seq: number, op: MirrorOp, recordId: string | null, detail: string | null, line: () => EncodedLine): void {
    if (!isMirrored(this.#mirror, layer)) return;
    this.#statements.insertJournal.run(layer, seq, op, null, recordId, detail);
    this.#touched.add(layer);
    this.#addLine(layer, line());
  }

  #addLine(layer: string, line: EncodedLine): void {
    let lines = this.#lines.get(layer);
    if (lines === undefined) this.#lines.set(layer, (lines = []));
    lines.push(line);
  }

  /**
   * A remembered record's journal entry: the seq extends the open run when it follows it in the
   * same layer (no other change took a seq in between), else a new run starts. A group commit of
   * remembers into one layer is then one journal row, whatever its size.
   */
  #journalRemember(layer: string, seq: number): boolean {
    if (!isMirrored(this.#mirror, layer)) return false;
    const run = this.#run;
    if (run !== undefined && run.layer === layer && run.last === seq - 1) {
      run.last = seq;
      return true;
    }
    this.#closeRun();
    this.#run = { layer, first: seq, last: seq };
    this.#touched.add(layer);
    return true;
  }

  #closeRun(): void {
    const run = this.#run;
    if (run === undefined) return;
    this.#statements.insertJournal.run(run.layer, run.first, 'remember', run.last, null, null);
    this.#run = undefined;
  }
}
