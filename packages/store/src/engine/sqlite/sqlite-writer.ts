import type Database from 'better-sqlite3';
import type { StoreChange, StoredRecord } from '../../changes/store-change.js';
import type { RememberedRecord, UpdateOutcome } from '../../memory-record.js';
import { recordJsonTail } from '../../mirror/mirror-line.js';
import { newRecordId } from '../../record-id.js';
import type { ValidArchiveSelector } from '../../validate-archive.js';
import type { ValidImportedRecord } from '../../validate-import.js';
import type { ValidRecordInput } from '../../validate-record.js';
import { isWithin, type MaintainBatch, type WriteOperation, type WriteResult } from '../../write-operation.js';
import { describePolicy, type MaintainChange } from '../../lifecycle-policy.js';
import { ChangeJournal, isMirrored, parseMirrorSetting, storedRecordOfRow, type MirrorSelection } from './sqlite-change-journal.js';
import { recordFromRow, recordOfStored } from './sqlite-record.js';
import type { ChangedRecord, SqliteStatements } from './sqlite-statements.js';
import type { RecordRow } from './sqlite-tables.js';
import { handedResultOf } from './handed-batch.js';

/** The outcome of a handed batch is kept at least this long for its owner to read (then pruned)... */
export const HANDED_OUTCOME_KEEP_MS = 60 * 60 * 1000;
/** ...by a leader that commits handed batches, at most this often while nothing is left over... */
const HANDED_OUTCOME_PRUNE_EVERY_MS = 60 * 1000;
/**
 * ...and at most this many rows a transaction. A leader writing thousands of handed batches a
 * second has a minute of expired rows to prune each time (150,000 rows took 343 ms in one DELETE,
 * inside the write transaction that every writer waits for); a piece of them goes with each of
 * its transactions that carry handed batches, until none is left. Each such transaction adds one
 * row at least, so the pieces outpace the growth.
 */
export const HANDED_OUTCOME_PRUNE_LIMIT = 256;

/** A failure as one line of text, for a handed batch's owner: its code and message. */
function describeFailure(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return JSON.stringify({ code: typeof code === 'string' ? code : undefined, message: error instanceof Error ? error.message : String(error) });
}

export { isMirrored, parseMirrorSetting, type MirrorSelection } from './sqlite-change-journal.js';

/**
 * One batch of a transaction: a process's own queue, or a batch handed over by another process
 * (`handoffId`: its outcome is recorded in `handed_batches` in the same transaction, and a batch
 * whose outcome is there already, decided by its owner meanwhile, is passed over).
 */
export interface WriterBatch {
  readonly operations: readonly WriteOperation[];
  readonly prepared: PreparedBatch;
  readonly handoffId?: string;
}

/**
 * What happened to one batch of a transaction: its results; or why it failed (then nothing of it
 * was written); or, for a handed batch, that its outcome was decided before (`decided`: nothing
 * was done, its owner knows).
 */
export type BatchOutcome = { readonly results: WriteResult[] } | { readonly error: unknown } | { readonly decided: true };

/** What one transaction of several batches did. */
export interface AppliedBatches {
  /** One outcome per batch, in order. */
  readonly outcomes: readonly BatchOutcome[];
  /** Every change the transaction made, in seq order: what the views (the layer mirrors) follow. */
  readonly changes: readonly StoreChange[];
  /** The mirrored layers this transaction wrote journal rows for: their JSONL files are behind now. */
  readonly touchedLayers: ReadonlySet<string>;
  /** The store's last seq before this transaction: every seq above it, up to its last, is this transaction's. */
  readonly startSeq: number;
}

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

/** The search index's side of forgetting: how far it has applied the removal rows (they are pruned up to there). */
export interface SearchRemovals {
  appliedThrough(): number;
}

/** A record maintain() picked. */
interface MaintainCandidate {
  readonly id: string;
  readonly layer: string;
  readonly expires_at: number | null;
}

/** A contextPath at a scope or below it (named parameters path, below, beyond: see sqlite-recall.ts). */
const SCOPE_RANGE = '(context_path = @path OR (context_path >= @below AND context_path < @beyond))';

/** How often a write transaction prunes the removal rows the search index has applied. */
const REMOVALS_PRUNE_EVERY_MS = 10_000;

/**
 * Applies a batch of write operations in one BEGIN IMMEDIATE transaction; the caller holds the
 * store's exclusive flock for the whole call. The transaction holds what must be atomic: the
 * records, the seq counter and the mirror journal; the search index follows (SqliteSearchDatabase),
 * and the layer mirrors are appended after the commit from the changes it returns.
 *
 * Every change takes the next seq of the one store-wide counter, read once and written once per
 * transaction. Journal rows already appended (as the mirror reports) are pruned here too, in the
 * transaction that is being paid for anyway.
 */
export class SqliteWriter {
  readonly #statements: SqliteStatements;
  readonly #removals: SearchRemovals;
  #removalsPrunedAt = 0;
  readonly #journal: ChangeJournal;
  readonly #applyInTransaction: Database.Transaction<
    (batches: readonly WriterBatch[], prune: ReadonlyMap<string, number>, beforeCommit: () => void) => AppliedBatches
  >;
  /** One batch's operations in a savepoint: a batch that fails is undone alone (see applyBatches). */
  readonly #applyInSavepoint: Database.Transaction<(batch: WriterBatch) => WriteResult[]>;
  /** When handed batches' outcomes older than HANDED_OUTCOME_KEEP_MS were last pruned. */
  #outcomesPrunedAt = 0;
  /** The last prune deleted as many as it may: more expired outcomes may be left, for the next transaction. */
  #outcomesLeftOver = false;
  /** State of the transaction in progress. */
  #lastSeq = 0;
  #changes: StoreChange[] = [];
  /** The time of the transaction in progress (epoch ms). */
  #now = 0;
  /** The mirror setting as the last transaction read it (prepare() builds record JSON for mirrored layers only). */
  #mirror: MirrorSelection = { kind: 'all' };

  readonly #db: Database.Database;
  /** maintain()'s queries, by their SQL (they vary with the policy's criteria and the scope). */
  readonly #maintainQueries = new Map<string, Database.Statement<unknown[], MaintainCandidate>>();

  constructor(db: Database.Database, statements: SqliteStatements, removals: SearchRemovals) {
    this.#db = db;
    this.#statements = statements;
    this.#removals = removals;
    this.#journal = new ChangeJournal(statements);
    this.#applyInSavepoint = db.transaction((batch: WriterBatch) => batch.operations.map((operation, index) => this.#applyOne(operation, batch.prepared[index])));
    this.#applyInTransaction = db.transaction((batches: readonly WriterBatch[], prune: ReadonlyMap<string, number>, beforeCommit: () => void) => {
      const startSeq = this.#statements.lastSeq.get() as number;
      this.#lastSeq = startSeq;
      this.#changes = [];
      this.#mirror = parseMirrorSetting(this.#statements.mirrorSetting.get());
      for (const [layer, through] of prune) {
        this.#statements.pruneJournal.run(layer, through);
        this.#statements.markPruned.run(layer, through);
      }
      const now = Date.now();
      this.#now = now;
      const outcomes = batches.map((batch) => this.#applyBatch(batch, now));
      if (
        batches.some((batch) => batch.handoffId !== undefined) &&
        (this.#outcomesLeftOver || now - this.#outcomesPrunedAt >= HANDED_OUTCOME_PRUNE_EVERY_MS)
      ) {
        const pruned = this.#statements.pruneHandedOutcomes.run({ before: now - HANDED_OUTCOME_KEEP_MS, limit: HANDED_OUTCOME_PRUNE_LIMIT });
        this.#outcomesPrunedAt = now;
        this.#outcomesLeftOver = pruned.changes >= HANDED_OUTCOME_PRUNE_LIMIT;
      }
      const changes = this.#changes;
      const touchedLayers = this.#journal.write(changes, this.#mirror);
      if (this.#lastSeq !== startSeq) this.#statements.setLastSeq.run(this.#lastSeq);
      if (now - this.#removalsPrunedAt >= REMOVALS_PRUNE_EVERY_MS) {
        this.#statements.pruneSearchRemovals.run({ through: this.#removals.appliedThrough() });
        this.#removalsPrunedAt = now;
      }
      beforeCommit();
      return { outcomes, changes, touchedLayers, startSeq };
    });
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
            pinned: input.pinned,
            expiresAt: input.expiresAt === null ? undefined : new Date(input.expiresAt).toISOString(),
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
    const { outcomes, ...applied } = this.applyBatches([{ operations, prepared }], prune, beforeCommit);
    const outcome = outcomes[0] as BatchOutcome;
    if ('error' in outcome) throw outcome.error;
    if (!('results' in outcome)) throw new Error('a batch without a handoff id was found decided');
    return { results: outcome.results, ...applied };
  }

  /**
   * Several batches in one BEGIN IMMEDIATE transaction, each in a savepoint of its own: a batch
   * that fails (a full disk, a constraint) is rolled back alone, with the seqs and changes it had
   * taken, and the others commit; one process's bad batch never fails another's. A handed
   * batch's outcome goes into `handed_batches` in the same transaction, so that it is recorded if
   * and only if the batch is committed; one whose outcome is there already is not applied again.
   */
  applyBatches(batches: readonly WriterBatch[], prune: ReadonlyMap<string, number> = new Map(), beforeCommit: () => void = () => {}): AppliedBatches {
    return this.#applyInTransaction.immediate(batches, prune, beforeCommit);
  }

  #applyBatch(batch: WriterBatch, now: number): BatchOutcome {
    if (batch.handoffId !== undefined && this.#statements.handedOutcome.get({ batch_id: batch.handoffId }) !== undefined) return { decided: true };
    const lastSeq = this.#lastSeq;
    const changes = this.#changes.length;
    let outcome: { readonly results: WriteResult[] } | { readonly error: unknown };
    try {
      outcome = { results: this.#applyInSavepoint(batch) };
    } catch (error) {
      this.#lastSeq = lastSeq;
      this.#changes.length = changes;
      outcome = { error };
    }
    if (batch.handoffId !== undefined) {
      this.#statements.insertHandedOutcome.run({
        batch_id: batch.handoffId,
        results: 'results' in outcome ? JSON.stringify(outcome.results.map((result, index) => handedResultOf(batch.operations[index] as WriteOperation, result, batch.prepared[index]))) : null,
        error: 'error' in outcome ? describeFailure(outcome.error) : null,
        committed_at: now,
      });
    }
    return outcome;
  }

  #applyOne(operation: WriteOperation, prepared: PreparedRecord | undefined): WriteResult {
    switch (operation.kind) {
      case 'remember':
        return this.#remember(operation.input, prepared ?? (this.prepare([operation])[0] as PreparedRecord));
      case 'update':
        return this.#update(operation);
      case 'forget':
        return this.#forget(operation.id, operation.within);
      case 'maintain':
        return this.#maintain(operation);
      case 'archive':
        return this.#archive(operation.selector);
      case 'restore':
        return this.#restore(operation.ids);
      case 'add-recall-counts':
        return this.#addRecallCounts(operation.increments);
      case 'import':
        return this.#import(operation.record);
    }
  }

  #remember(input: ValidRecordInput, prepared: PreparedRecord): RememberedRecord {
    if (input.key !== null) {
      const existing = this.#statements.recordByKey.get(input.key);
      if (existing !== undefined) return { ...recordFromRow(existing), created: false };
    }
    return this.#insert(input, prepared, 0, null);
  }

  /** An exported record, kept as it was, unless its id or key is here already. */
  #import(record: ValidImportedRecord): RememberedRecord | null {
    if (this.#statements.recordById.get(record.id) !== undefined) return null;
    if (record.key !== null && this.#statements.recordByKey.get(record.key) !== undefined) return null;
    const prepared = {
      id: record.id,
      createdAt: record.createdAt,
      createdAtIso: new Date(record.createdAt).toISOString(),
      tagsJson: JSON.stringify(record.tags),
      recordTail: undefined,
    };
    return this.#insert(record, prepared, record.recallCount, record.updatedAt);
  }

  /** Inserts the row; the search index follows later (see SqliteSearchDatabase), the journal row with the transaction's others. */
  /** The record as written, `created: true` (built once here: remember() returns it as it is). */
  #insert(input: ValidRecordInput, prepared: PreparedRecord, recallCount: number, updatedAt: number | null): RememberedRecord {
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
      updatedAt,
      pinned: input.pinned,
      expiresAt: input.expiresAt,
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
      updated_at: updatedAt,
      pinned: input.pinned ? 1 : 0,
      expires_at: input.expiresAt,
      last_recalled_at: null,
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
      ...(updatedAt === null ? {} : { updatedAt: new Date(updatedAt).toISOString() }),
      ...(input.pinned ? { pinned: true as const } : {}),
      ...(input.expiresAt === null ? {} : { expiresAt: new Date(input.expiresAt).toISOString() }),
      created: true,
    };
  }

  /**
   * A new version of the record found by id (or else by key) in the scope: the version it replaces
   * goes to record_versions, and the record takes a new seq, so that every view that follows the
   * records by seq (the layer mirrors, the search index) sees it as a change. With `ifSeq`, nothing
   * is written unless the record is still at that seq (the result says which seq it is at).
   */
  #update(operation: Extract<WriteOperation, { kind: 'update' }>): UpdateOutcome {
    let row = this.#statements.recordById.get(operation.target);
    if (row === undefined || !isWithin(row.context_path, operation.within)) row = this.#statements.recordByKey.get(operation.key);
    if (row === undefined || !isWithin(row.context_path, operation.within)) return { outcome: 'missing' };
    if (operation.ifSeq !== undefined && row.seq !== operation.ifSeq) return { outcome: 'conflict', id: row.id, currentSeq: row.seq };
    const { changes } = operation;
    const stored: StoredRecord = {
      id: row.id,
      seq: this.#nextSeq(),
      content: changes.content ?? row.content,
      tagsJson: changes.tags === undefined ? row.tags : JSON.stringify(changes.tags),
      contextPath: changes.contextPath ?? row.context_path,
      layer: changes.layer ?? row.layer,
      createdAt: row.created_at,
      recallCount: row.recall_count,
      metadataJson: changes.metadataJson ?? row.metadata,
      key: row.idempotency_key,
      updatedAt: operation.at,
      pinned: changes.pinned ?? row.pinned === 1,
      expiresAt: changes.expiresAt === undefined ? row.expires_at : changes.expiresAt,
    };
    this.#statements.saveVersion.run({ id: row.id });
    this.#statements.updateRecord.run({
      id: stored.id,
      seq: stored.seq,
      layer: stored.layer,
      content: stored.content,
      tags: stored.tagsJson,
      context_path: stored.contextPath,
      metadata: stored.metadataJson,
      updated_at: operation.at,
      pinned: stored.pinned ? 1 : 0,
      expires_at: stored.expiresAt,
    });
    // The index drops the entry of the replaced version, and indexes the new one by its new seq.
    this.#statements.addSearchRemoval.run({ change_seq: stored.seq, record_seq: row.seq });
    this.#changes.push({ kind: 'update', seq: stored.seq, record: stored, from: row.layer });
    return { outcome: 'updated', record: recordOfStored(stored) };
  }

  /** Deletes the record and the versions updates kept of it: a forgotten memory leaves no history behind. */
  #forget(id: string, within: string | undefined): boolean {
    const row = this.#statements.recordById.get(id);
    if (row === undefined || !isWithin(row.context_path, within)) return false;
    this.#statements.deleteById.run(id);
    this.#statements.deleteVersions.run(id);
    const seq = this.#nextSeq();
    // The search index (another database) drops the record's entry when it applies this row.
    this.#statements.addSearchRemoval.run({ change_seq: seq, record_seq: row.seq });
    this.#changes.push({ kind: 'forget', seq, id, layer: row.layer });
    return true;
  }

  /**
   * One batch of maintain(): the records that expired (oldest expiry first) are archived or
   * forgotten; then, in what is left of the batch, the `application` records that meet the policy
   * and are not pinned are archived. Both queries carry the scope, so that a full batch always
   * makes progress.
   */
  #maintain(operation: Extract<WriteOperation, { kind: 'maintain' }>): MaintainBatch {
    const changes: MaintainChange[] = [];
    const scope = operation.within === undefined || operation.within === '/' ? '' : ` AND ${SCOPE_RANGE}`;
    const range = scope === '' || operation.within === undefined ? {} : { path: operation.within, below: `${operation.within}/`, beyond: `${operation.within}0` };
    // Already archived expired records stay where they are, unless they are to be forgotten.
    const notArchived = operation.expired === 'archive' ? ` AND layer <> 'archive'` : '';
    const expired = this.#maintainQuery(
      `SELECT id, layer, expires_at FROM records WHERE expires_at IS NOT NULL AND expires_at <= @now${notArchived}${scope} ORDER BY expires_at LIMIT @limit`,
    ).all({ now: operation.now, limit: operation.limit, ...range });
    for (const record of expired) {
      const detail = `expired at ${new Date(record.expires_at as number).toISOString()}`;
      if (operation.expired === 'forget') this.#forget(record.id, undefined);
      else this.#moveToArchive(record.id, record.layer);
      changes.push({ id: record.id, action: operation.expired, reason: 'expired', detail });
    }
    let full = expired.length >= operation.limit;
    const { policy } = operation;
    if (policy !== undefined && !full) {
      const criteria: string[] = [];
      if (policy.olderThanMs !== undefined) criteria.push('coalesce(updated_at, created_at) < @written_before');
      if (policy.recallCountBelow !== undefined) criteria.push('recall_count < @count_below');
      if (policy.notRecalledSinceMs !== undefined) criteria.push('coalesce(last_recalled_at, updated_at, created_at) < @recalled_before');
      const left = operation.limit - expired.length;
      const matching = this.#maintainQuery(
        `SELECT id, layer, expires_at FROM records WHERE layer = 'application' AND pinned = 0 AND (expires_at IS NULL OR expires_at > @now)
           AND ${criteria.join(' AND ')}${scope} ORDER BY seq LIMIT @limit`,
      ).all({
        now: operation.now,
        limit: left,
        ...(policy.olderThanMs === undefined ? {} : { written_before: operation.now - policy.olderThanMs }),
        ...(policy.recallCountBelow === undefined ? {} : { count_below: policy.recallCountBelow }),
        ...(policy.notRecalledSinceMs === undefined ? {} : { recalled_before: operation.now - policy.notRecalledSinceMs }),
        ...range,
      });
      const detail = describePolicy(policy);
      for (const record of matching) {
        this.#moveToArchive(record.id, record.layer);
        changes.push({ id: record.id, action: 'archive', reason: 'policy', detail });
      }
      full = matching.length >= left;
    }
    return { changes, more: full };
  }

  #maintainQuery(text: string): Database.Statement<unknown[], MaintainCandidate> {
    let statement = this.#maintainQueries.get(text);
    if (statement === undefined) {
      statement = this.#db.prepare(text) as Database.Statement<unknown[], MaintainCandidate>;
      this.#maintainQueries.set(text, statement);
    }
    return statement;
  }

  /** Moves one record from `from` (any layer) to archive, as a move change. */
  #moveToArchive(id: string, from: string): void {
    this.#statements.moveToArchive.run({ id });
    const row = this.#statements.recordById.get(id) as RecordRow;
    this.#changes.push({ kind: 'move', seq: this.#nextSeq(), id, from, to: 'archive', record: storedRecordOfRow(row) });
  }

  #archive(selector: ValidArchiveSelector): number {
    let moved: ChangedRecord[];
    if ('ids' in selector) {
      moved = [];
      for (const id of selector.ids) moved.push(...this.#statements.archiveById.all(id));
    } else if (selector.within !== undefined) {
      // A scope's records only: picked by the criterion and the path range, then moved by id.
      const range = { path: selector.within, below: `${selector.within}/`, beyond: `${selector.within}0` };
      const ids =
        'createdBefore' in selector
          ? this.#statements.applicationIdsCreatedBefore.all({ ...range, before: selector.createdBefore })
          : this.#statements.applicationIdsRecallCountBelow.all({ ...range, below_count: selector.recallCountBelow });
      moved = [];
      for (const id of ids) moved.push(...this.#statements.archiveById.all(id));
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

  /** archive -> application, by id; records in other layers stay where they are. */
  #restore(ids: readonly string[]): number {
    let moved = 0;
    for (const id of ids) {
      for (const record of this.#statements.restoreById.all(id)) {
        const row = this.#statements.recordById.get(record.id) as RecordRow;
        this.#changes.push({ kind: 'move', seq: this.#nextSeq(), id: record.id, from: 'archive', to: 'application', record: storedRecordOfRow(row) });
        moved += 1;
      }
    }
    return moved;
  }

  /**
   * Adds the increments (commutative: processes add to a count, nobody overwrites it), and notes
   * the new totals under one seq: a mirror keeps totals, not increments, so replaying a line twice
   * cannot count twice.
   */
  #addRecallCounts(increments: ReadonlyMap<number, number>): undefined {
    const totals: { id: string; layer: string; total: number }[] = [];
    for (const [seq, count] of increments) {
      for (const record of this.#statements.addRecallCount.all(count, this.#now, seq)) {
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
