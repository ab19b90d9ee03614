import type { CheckpointStats } from './engine/sqlite/sqlite-checkpointer.js';
import type { HandoverStats } from './engine/sqlite/sqlite-shared-commit.js';
import type { LayerMirrorStats } from './mirror/jsonl-mirror.js';
import type { EngineStats, StoreEngine } from './engine/store-engine.js';
import { StoreClosedError, StoreConflictError, StoreError, StoreNotFoundError, StoreValidationError } from './errors.js';
import { GroupCommit } from './group-commit.js';
import type { MemoryRecord, RecordVersion, RememberedRecord, UpdateOutcome } from './memory-record.js';
import { describeValue } from './metadata-json.js';
import { ndjsonLines } from './ndjson-lines.js';
import { BATCH_CONTENT_CHARS } from './page-sizer.js';
import { RecallCounts } from './recall-counts.js';
import { recordLine } from './record-json.js';
import type { ResolvedStoreOptions } from './store-options.js';
import type { StoreScope } from './store-scope.js';
import { rankCandidates, type Ranking, type RecallCandidate, type RecalledRecord } from './recall-ranking.js';
import { snippetMaker } from './recall-snippet.js';
import { validateArchiveSelector, validateIds, type ArchiveSelector, type ValidArchiveSelector } from './validate-archive.js';
import { validateImportedRecord } from './validate-import.js';
import { validateRecallQuery, type RecallQuery } from './validate-recall.js';
import { validateLayer, validateRecordInput, type RecordLimits, type RememberInput, type ValidRecordInput } from './validate-record.js';
import { validateUpdate, type UpdateInput } from './validate-update.js';
import {
  validateArchivePolicy,
  validateExpiredAction,
  type ExpiredAction,
  type MaintainChange,
  type MaintainOptions,
  type MaintainReport,
  type ValidArchivePolicy,
} from './lifecycle-policy.js';
import type { VerifyReport, RepairReport } from './verify-report.js';
import type { MaintainBatch, WriteOperation, WriteResult } from './write-operation.js';

/** A line of an import that was not imported, and why. */
export interface ImportRejection {
  /** 1-based line number in the input. */
  readonly lineNumber: number;
  /** Byte offset of the line in the input. */
  readonly offset: number;
  readonly reason: string;
}

/** What store.import() did. */
export interface ImportReport {
  /** Records written. */
  readonly imported: number;
  /** Valid records not written because their id or key was in the store already (so re-running an import is safe). */
  readonly skipped: number;
  /** Lines that were not valid records. */
  readonly rejected: number;
  /** The first 1000 rejections; every one goes to `onReject`. */
  readonly rejections: readonly ImportRejection[];
}

export interface ImportOptions {
  /** Called for every line that is not a valid record, as it is met. */
  readonly onReject?: (rejection: ImportRejection) => void;
  /** Called after each batch is written, with the running totals. */
  readonly onProgress?: (progress: { readonly imported: number; readonly skipped: number; readonly rejected: number; readonly lines: number }) => void;
  /** Records per write transaction. Default 500; a batch of large records is written sooner (see BATCH_CONTENT_CHARS). */
  readonly batchSize?: number;
}

const MAX_REPORTED_REJECTIONS = 1000;
const DEFAULT_IMPORT_BATCH = 500;

/** What stats() reports. */
export interface StoreStats extends EngineStats {
  readonly engine: 'sqlite' | 'postgres';
  /** The store's folder, or its server URL without the password. */
  readonly location: string;
  /** Recall-count increments of this process not written yet. */
  readonly pendingRecallCounts: number;
  /** SQLite: bytes of memory.db-wal (read with stat: no descriptor is opened on it). */
  readonly walBytes?: number;
  /** SQLite: this process's WAL checkpoints. */
  readonly checkpoints?: CheckpointStats;
  /** SQLite: records the search index has not reached yet (it follows in batches), and those this store object indexed outside its writes. */
  readonly search?: { readonly unindexedRecords: number; readonly recordsIndexed: number };
  /** SQLite: the layer mirrors this process has written to (size, lines appended, index updates, ...). */
  readonly mirror?: readonly LayerMirrorStats[];
  /**
   * SQLite: this store object's part in committing across processes (one process, the leader,
   * commits the batches of every process writing at the same time): whether it leads, the batches
   * it committed for others, those it handed over, and those of them the leader did not answer.
   */
  readonly handover?: HandoverStats;
  /** PostgreSQL: write transactions this store object has committed (one per group-commit batch). */
  readonly writeTransactions?: number;
}

/** Records maintain() moves or deletes per write transaction: the write lock is never held long. */
const MAINTAIN_BATCH = 500;
/** The changes a maintain report lists (its counts are complete). */
const MAX_REPORTED_CHANGES = 1_000;

/** The most candidates a recall with words reads before it ranks them (its limit times four, at least 50). */
const MAX_RECALL_CANDIDATES = 4_000;

/**
 * A memory store, shared safely by any number of processes and worker threads.
 *
 * ```ts
 * const store = await openStore({ dir: './memory' });
 * const record = await store.remember({ content: 'the build needs Node 20', tags: ['build'] });
 * await store.close();
 * ```
 *
 * Every change goes through one queue per store object: the changes that meet there are written
 * in one transaction under the store's write lock (group commit).
 */
export class Store {
  readonly #engine: StoreEngine;
  readonly #engineName: StoreStats['engine'];
  readonly #writes: GroupCommit<WriteOperation, WriteResult>;
  readonly #recallCounts: RecallCounts;
  readonly #limits: RecordLimits;
  readonly #scope: StoreScope;
  readonly #ranking: Ranking;
  readonly #archivePolicy: ValidArchivePolicy | undefined;
  readonly #expired: ExpiredAction;
  readonly #logger: ResolvedStoreOptions['logger'];
  /** The background maintain() (maintainEveryMs), and the run in progress. */
  #maintainTimer: NodeJS.Timeout | undefined;
  #maintaining: Promise<unknown> | undefined;
  #closed = false;

  /** @internal Use openStore(). */
  constructor(engine: StoreEngine, engineName: StoreStats['engine'], options: ResolvedStoreOptions) {
    this.#engine = engine;
    this.#engineName = engineName;
    this.#limits = options.limits;
    this.#scope = options.scope;
    this.#ranking = options.ranking;
    this.#archivePolicy = options.archivePolicy;
    this.#expired = options.expired;
    this.#logger = options.logger;
    if (options.maintainEveryMs !== undefined) {
      // Unref'd: a store that is otherwise idle does not keep the process alive for its upkeep.
      this.#maintainTimer = setInterval(() => this.#maintainInBackground(), options.maintainEveryMs);
      this.#maintainTimer.unref();
    }
    this.#writes = new GroupCommit((operations, afterCommit) => engine.write(operations, afterCommit));
    this.#recallCounts = new RecallCounts(
      async (increments, onCommitted) => {
        await this.#writes.submit([{ kind: 'add-recall-counts', increments }], onCommitted);
      },
      options.recallFlushIntervalMs,
      options.recallFlushPending,
      options.logger,
    );
  }

  /** The store's folder, or its server URL without the password. */
  get location(): string {
    return this.#engine.location;
  }

  /**
   * Stores one memory and resolves with the stored record and `created: true`. With a `key`
   * already in the store, resolves with the record first stored under it and `created: false`,
   * and writes nothing.
   */
  async remember(input: RememberInput): Promise<RememberedRecord> {
    this.#assertOpen();
    const valid = validateRecordInput(input, this.#limits);
    const [record] = await this.#writes.submit([{ kind: 'remember', input: this.#inScope(valid) }]);
    return this.#scope.view(record as RememberedRecord);
  }

  /**
   * Stores several memories in one transaction: all of them, or (on bad input) none. Each result
   * says, as remember()'s does, whether it was written or its key was known (`created`).
   */
  async rememberMany(inputs: readonly RememberInput[]): Promise<RememberedRecord[]> {
    this.#assertOpen();
    if (!Array.isArray(inputs)) throw new StoreValidationError('items', 'expected an array of records');
    // By index, not map: map passes over the holes of a sparse array, which would drop them unseen.
    const operations: WriteOperation[] = [];
    for (let index = 0; index < inputs.length; index += 1) {
      operations.push({ kind: 'remember', input: this.#inScope(validateRecordInput(inputs[index], this.#limits, `items[${index}].`)) });
    }
    if (operations.length === 0) return [];
    return ((await this.#writes.submit(operations)) as RememberedRecord[]).map((record) => this.#scope.view(record));
  }

  /** A record to remember, with its contextPath and key as stored: under this store's scope. */
  #inScope(input: ValidRecordInput): ValidRecordInput {
    if (this.#scope.isRoot) return input;
    return { ...input, contextPath: this.#scope.stored(input.contextPath), key: this.#scope.storedKey(input.key) };
  }

  /** The ids of records in this store's scope, among `ids` (all of them without a scope). */
  async #idsInScope(ids: readonly string[]): Promise<string[]> {
    if (this.#scope.isRoot) return [...ids];
    const inScope: string[] = [];
    for (const id of ids) {
      const record = await this.#engine.get(id);
      if (record !== undefined && this.#scope.contains(record.contextPath)) inScope.push(id);
    }
    return inScope;
  }

  /**
   * Finds records by words (full-text, best match first), tags (all of them), contextPath prefix,
   * layer and time, and counts one recall for each record found (unless `count: false`). Counts
   * are written in batches (see recallFlushIntervalMs); the records returned already include this
   * recall, and any of this process's not yet written.
   */
  async recall(query?: RecallQuery): Promise<RecalledRecord[]> {
    this.#assertOpen();
    const valid = validateRecallQuery(query);
    // With words, more candidates than asked for: the text rank alone is not the order (see rankCandidates).
    const candidates = valid.words === undefined ? valid.limit : Math.min(MAX_RECALL_CANDIDATES, Math.max(valid.limit * 4, 50));
    const scoped = { ...valid, limit: candidates, ...(this.#scope.isRoot ? {} : { contextPath: this.#scope.stored(valid.contextPath ?? '/') }) };
    const now = Date.now();
    const pendingRecalls = (seq: number) => this.#recallCounts.pendingFor(seq);
    const best = (limit: number) => (found: readonly RecallCandidate[]) => rankCandidates(found, this.#ranking, now, pendingRecalls).slice(0, limit);
    // Without words the engines list newest first through an index; the pinned records (few, and
    // indexed apart) are read on their own and put first.
    const pinnedFirst = valid.words === undefined && valid.pinned === undefined;
    const pinnedHits = pinnedFirst ? await this.#engine.recall({ ...scoped, pinned: true }, best(valid.limit)) : [];
    const otherHits =
      pinnedFirst && pinnedHits.length >= valid.limit
        ? []
        : await this.#engine.recall(pinnedFirst ? { ...scoped, pinned: false, limit: scoped.limit - pinnedHits.length } : scoped, best(valid.limit - pinnedHits.length));
    const snippetOf = valid.words === undefined ? undefined : snippetMaker(valid.words);
    return [...pinnedHits, ...otherHits].map(({ record, chosen: { parts, score } }) => {
      if (valid.count) this.#recallCounts.add(record.seq);
      const pending = this.#recallCounts.pendingFor(record.seq);
      const counted = pending === 0 ? record : { ...record, recallCount: record.recallCount + pending };
      return {
        ...this.#scope.view(counted),
        score,
        ...(snippetOf === undefined ? {} : { snippet: snippetOf(record.content) }),
        ...(valid.explain ? { explain: parts } : {}),
      };
    });
  }

  /** The record with this id, or null. */
  async get(id: string): Promise<MemoryRecord | null> {
    this.#assertOpen();
    validateId(id);
    const record = await this.#engine.get(id);
    return record !== undefined && this.#scope.contains(record.contextPath) ? this.#scope.view(record) : null;
  }

  /** Deletes the record with this id, and the versions its updates kept; resolves true if it existed. */
  async forget(id: string): Promise<boolean> {
    this.#assertOpen();
    validateId(id);
    // The scope is checked in the write transaction: an update elsewhere may move a record out of it.
    const [existed] = await this.#writes.submit([{ kind: 'forget', id, ...this.#within() }]);
    return existed as boolean;
  }

  /**
   * Writes a new version of the record with this id (or else this idempotency key): the fields
   * given change, the others keep their value; the id, key and createdAt never change. The record
   * gets a new seq (the store's write order: every view follows it as a change) and an
   * `updatedAt`; the version it replaces is kept, and history() lists them all. Concurrent updates
   * are serialised like every write: the last to commit wins, and no version is lost.
   *
   * With `ifSeq` (the seq the caller read the record at), the update is a compare-and-set: if the
   * record has another seq now, nothing is written and it rejects with StoreConflictError. Rejects
   * with StoreNotFoundError when no record has this id or key (in this store's scope).
   */
  async update(idOrKey: string, changes: UpdateInput): Promise<MemoryRecord> {
    this.#assertOpen();
    const valid = validateUpdate(idOrKey, changes, this.#limits);
    const scopedChanges = valid.changes.contextPath === undefined ? valid.changes : { ...valid.changes, contextPath: this.#scope.stored(valid.changes.contextPath) };
    const [result] = await this.#writes.submit([
      {
        kind: 'update',
        target: valid.target,
        key: this.#scope.storedKey(valid.target) as string,
        changes: scopedChanges,
        ...(valid.ifSeq === undefined ? {} : { ifSeq: valid.ifSeq }),
        at: Date.now(),
        ...this.#within(),
      },
    ]);
    const outcome = result as UpdateOutcome;
    switch (outcome.outcome) {
      case 'updated':
        return this.#scope.view(outcome.record);
      case 'conflict':
        throw new StoreConflictError(outcome.id, valid.ifSeq as number, outcome.currentSeq);
      case 'missing':
        throw new StoreNotFoundError(valid.target);
    }
  }

  /**
   * Every version of the record with this id (or else this idempotency key), oldest first, each
   * with its seq and the time it was written; the last one is the record as it is now. Empty when
   * no record has this id or key (in this store's scope), or it was forgotten.
   */
  async history(idOrKey: string): Promise<RecordVersion[]> {
    this.#assertOpen();
    if (typeof idOrKey !== 'string' || idOrKey === '') throw new StoreValidationError('idOrKey', `expected a record's id or key, got ${describeValue(idOrKey)}`);
    const versions = await this.#engine.history({ id: idOrKey, key: this.#scope.storedKey(idOrKey) as string, ...this.#within() });
    return this.#scope.isRoot ? versions : versions.map((version) => ({ ...version, contextPath: this.#scope.viewPath(version.contextPath) }));
  }

  /** The scope a write or read is limited to, as an operation carries it: none for the root. */
  #within(): { within?: string } {
    return this.#scope.isRoot ? {} : { within: this.#scope.path };
  }

  /**
   * Moves records from the `application` layer to `archive`: by `ids`, created before
   * `olderThan`, or with a recall count below `recallCountBelow`. Resolves with how many moved.
   */
  async archive(selector: ArchiveSelector): Promise<number> {
    this.#assertOpen();
    const valid = validateArchiveSelector(selector);
    let scoped: ValidArchiveSelector = valid;
    if (!this.#scope.isRoot) scoped = 'ids' in valid ? { ids: await this.#idsInScope(valid.ids) } : { ...valid, within: this.#scope.path };
    if ('ids' in scoped && scoped.ids.length === 0) return 0;
    const [moved] = await this.#writes.submit([{ kind: 'archive', selector: scoped }]);
    return moved as number;
  }

  /**
   * Moves records back from `archive` to `application`, by id: the way back from archive().
   * Records that are not in `archive` (another layer, forgotten, never there) stay as they are.
   * Resolves with how many moved.
   */
  async restore(ids: readonly string[]): Promise<number> {
    this.#assertOpen();
    const valid = await this.#idsInScope(validateIds(ids));
    if (valid.length === 0) return 0;
    const [moved] = await this.#writes.submit([{ kind: 'restore', ids: valid }]);
    return moved as number;
  }

  /**
   * Applies the store's lifecycle: records whose expiresAt has passed are moved to `archive` (or
   * forgotten, with `expired: 'forget'`), and `application` records that meet the archive policy
   * (openStore's `archivePolicy`, or `options.policy`) and are not pinned are moved to `archive`.
   * Works in batches of at most 500 records per write transaction, so the write lock is never
   * held long and other writers go on in between. Resolves with what moved and why.
   */
  async maintain(options: MaintainOptions = {}): Promise<MaintainReport> {
    this.#assertOpen();
    if (typeof options !== 'object' || options === null) throw new StoreValidationError('options', 'expected an object');
    for (const name of Object.keys(options)) {
      if (name !== 'policy' && name !== 'expired') throw new StoreValidationError(name, 'is not an option of maintain (policy, expired)');
    }
    const policy = options.policy === undefined ? this.#archivePolicy : validateArchivePolicy(options.policy, 'policy');
    const expired = options.expired === undefined ? this.#expired : validateExpiredAction(options.expired, 'expired');
    const now = Date.now();
    const changes: MaintainChange[] = [];
    let archived = 0;
    let forgotten = 0;
    for (;;) {
      const [result] = await this.#writes.submit([
        { kind: 'maintain', now, expired, ...(policy === undefined ? {} : { policy }), limit: MAINTAIN_BATCH, ...this.#within() },
      ]);
      const batch = result as MaintainBatch;
      for (const change of batch.changes) {
        if (change.action === 'archive') archived += 1;
        else forgotten += 1;
        if (changes.length < MAX_REPORTED_CHANGES) changes.push(change);
      }
      // A store being closed stops between batches: what is done is done, the rest waits for the next run.
      if (!batch.more || this.#closed) break;
    }
    return { archived, forgotten, changes };
  }

  /** One background run of maintain() at a time; a failure is logged, and the next tick tries again. */
  #maintainInBackground(): void {
    if (this.#closed || this.#maintaining !== undefined) return;
    this.#maintaining = this.maintain()
      .catch((error: unknown) => {
        if (!this.#closed) this.#logger.warn({ err: error }, 'memhub: the background maintain() failed; it runs again at the next interval');
      })
      .finally(() => {
        this.#maintaining = undefined;
      });
  }

  /**
   * Streams every record as a line of NDJSON (`{"v":1,"id":...}` and `\n`), in seq order, read a
   * page at a time. Pipe it anywhere: `await pipeline(store.export(), createWriteStream(file))`.
   */
  async *export(): AsyncGenerator<string> {
    this.#assertOpen();
    for await (const record of this.#engine.records()) yield recordLine(record);
  }

  /**
   * Reads NDJSON lines as export() writes them (from a file stream, stdin, or any iterable of
   * strings or bytes) and writes the records in batches, each keeping its id, time, recall count
   * and key. A record whose id or key is in the store already is skipped, so an import can be
   * run again after an interruption. A bad line is reported (line number, offset, reason) and
   * the others are still imported.
   */
  async import(source: AsyncIterable<Buffer | Uint8Array | string> | Iterable<Buffer | Uint8Array | string>, options: ImportOptions = {}): Promise<ImportReport> {
    this.#assertOpen();
    const { onReject, onProgress, batchSize } = validateImportArguments(source, options);
    const totals = { imported: 0, skipped: 0, rejected: 0, lines: 0 };
    const rejections: ImportRejection[] = [];
    const reject = (rejection: ImportRejection) => {
      totals.rejected += 1;
      if (rejections.length < MAX_REPORTED_REJECTIONS) rejections.push(rejection);
      onReject?.(rejection);
    };
    let batch: WriteOperation[] = [];
    let batchChars = 0;
    const writeBatch = async () => {
      if (batch.length === 0) return;
      const operations = batch;
      batch = [];
      batchChars = 0;
      for (const result of await this.#writes.submit(operations)) {
        if (result === null) totals.skipped += 1;
        else totals.imported += 1;
      }
      onProgress?.({ ...totals });
    };
    const lines = ndjsonLines(toAsyncIterable(source));
    for await (const line of lines) {
      totals.lines += 1;
      if (line.text === undefined) {
        reject({ lineNumber: line.lineNumber, offset: line.offset, reason: `the line is ${line.length} bytes, longer than any record` });
        continue;
      }
      if (line.text.trim() === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(line.text);
      } catch (error) {
        reject({ lineNumber: line.lineNumber, offset: line.offset, reason: `not JSON: ${(error as Error).message}` });
        continue;
      }
      try {
        const record = validateImportedRecord(value, this.#limits);
        batch.push({ kind: 'import', record });
        batchChars += record.content.length;
      } catch (error) {
        if (!(error instanceof StoreValidationError)) throw error;
        reject({ lineNumber: line.lineNumber, offset: line.offset, reason: error.message });
        continue;
      }
      if (batch.length >= batchSize || batchChars >= BATCH_CONTENT_CHARS) await writeBatch();
    }
    await writeBatch();
    return { imported: totals.imported, skipped: totals.skipped, rejected: totals.rejected, rejections };
  }

  /**
   * Checks the store without changing it: the database's integrity, its full-text index and tag
   * rows, and (SQLite) each layer's JSONL mirror against the database. Writes in flight finish first.
   */
  async verify(): Promise<VerifyReport> {
    this.#assertOpen();
    await this.#writes.settled();
    const report = await this.#engine.verify();
    return { ok: report.problems.length === 0, engine: this.#engineName, location: this.#engine.location, ...report };
  }

  /** Fixes what verify() finds, from the database's records, then verifies again. */
  async repair(): Promise<RepairReport> {
    this.#assertOpen();
    await this.#writes.settled();
    const actions = await this.#engine.repair();
    return { actions, after: await this.verify() };
  }

  /**
   * Reads a record from a layer's JSONL mirror (SQLite engine), through the layer's index: the
   * record as its latest line there has it, or null when the layer's file does not hold it.
   * `linesRead` says how many lines of the file were read to find it (1 when the index covers it).
   */
  async readFromMirror(layer: string, id: string): Promise<{ readonly record: MemoryRecord | null; readonly linesRead: number }> {
    this.#assertOpen();
    validateLayer(layer, 'layer');
    validateId(id);
    if (this.#engine.lookupInMirror === undefined) throw new StoreError('ERR_MEMHUB_NO_MIRROR', `the ${this.#engineName} engine keeps no JSONL mirror`);
    await this.#writes.settled();
    const found = await this.#engine.lookupInMirror(layer, id);
    return { record: found.line?.record ?? null, linesRead: found.linesRead };
  }

  /**
   * Waits for the writes in flight, writes the recall counts gathered so far, and brings the views
   * up to date: the JSONL mirror has this process's lines, and the search index every record
   * (SQLite appends the mirror and indexes new records in batches, shortly after the writes
   * resolve; recall() never misses a record either way, and nothing is lost if the process dies
   * first: the next process catches the views up).
   */
  async flush(): Promise<void> {
    this.#assertOpen();
    await this.#writes.settled();
    await this.#recallCounts.flush();
    await this.#engine.flush?.();
  }

  async stats(): Promise<StoreStats> {
    this.#assertOpen();
    return {
      engine: this.#engineName,
      location: this.#engine.location,
      ...(await this.#engine.stats()),
      pendingRecallCounts: this.#recallCounts.pending,
    };
  }

  /**
   * Waits for the writes in flight, writes the pending recall counts, then closes the engine
   * (connections, locks, files). Idempotent. If the counts cannot be written it still closes,
   * and rethrows.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#maintainTimer);
    try {
      await this.#maintaining;
      await this.#writes.settled();
      await this.#recallCounts.close();
    } finally {
      await this.#writes.settled();
      await this.#engine.close();
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #assertOpen(): void {
    if (this.#closed) throw new StoreClosedError(this.#engine.location);
  }
}

/** The source's chunks, each checked to be text or bytes (the type of what comes is known only as it comes). */
async function* toAsyncIterable(source: AsyncIterable<unknown> | Iterable<unknown>): AsyncIterable<Buffer | Uint8Array | string> {
  let index = 0;
  for await (const chunk of source) {
    if (typeof chunk !== 'string' && !(chunk instanceof Uint8Array)) {
      throw new StoreValidationError(`source[${index}]`, `expected a string, a Buffer or a Uint8Array, got ${describeValue(chunk)}`);
    }
    index += 1;
    yield chunk;
  }
}

const IMPORT_OPTIONS = new Set<string>(['onReject', 'onProgress', 'batchSize'] satisfies (keyof ImportOptions)[]);

/** import()'s arguments, checked before anything is read: an iterable source, and options of the right types. */
function validateImportArguments(source: unknown, options: unknown): { onReject?: ImportOptions['onReject']; onProgress?: ImportOptions['onProgress']; batchSize: number } {
  const iterable =
    typeof source === 'string' ||
    (typeof source === 'object' &&
      source !== null &&
      (typeof (source as Partial<AsyncIterable<unknown>>)[Symbol.asyncIterator] === 'function' || typeof (source as Partial<Iterable<unknown>>)[Symbol.iterator] === 'function'));
  if (!iterable) {
    throw new StoreValidationError('source', `expected an iterable or async iterable of strings or bytes (a file stream, an array of lines), got ${describeValue(source)}`);
  }
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new StoreValidationError('options', `expected an object of import options, got ${describeValue(options)}`);
  }
  const given = options as Record<string, unknown>;
  for (const name of Object.keys(given)) {
    if (!IMPORT_OPTIONS.has(name)) throw new StoreValidationError(name, 'is not an option of import');
  }
  const { onReject, onProgress, batchSize = DEFAULT_IMPORT_BATCH } = given;
  if (onReject !== undefined && typeof onReject !== 'function') throw new StoreValidationError('onReject', `expected a function, got ${describeValue(onReject)}`);
  if (onProgress !== undefined && typeof onProgress !== 'function') throw new StoreValidationError('onProgress', `expected a function, got ${describeValue(onProgress)}`);
  if (typeof batchSize !== 'number' || !Number.isInteger(batchSize) || batchSize < 1) throw new StoreValidationError('batchSize', 'expected a positive integer');
  return {
    onReject: onReject as ImportOptions['onReject'],
    onProgress: onProgress as ImportOptions['onProgress'],
    batchSize,
  };
}

function validateId(id: unknown): void {
  if (typeof id !== 'string' || id === '') throw new StoreValidationError('id', 'expected a non-empty string');
}
