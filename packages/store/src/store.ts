import type { CheckpointStats } from './engine/sqlite/sqlite-writer.js';
import type { EngineStats, StoreEngine } from './engine/store-engine.js';
import { StoreClosedError, StoreValidationError } from './errors.js';
import { GroupCommit } from './group-commit.js';
import type { MemoryRecord } from './memory-record.js';
import { RecallCounts } from './recall-counts.js';
import type { ResolvedStoreOptions } from './store-options.js';
import { validateArchiveSelector, type ArchiveSelector } from './validate-archive.js';
import { validateRecallQuery, type RecallQuery } from './validate-recall.js';
import { validateRecordInput, type RecordLimits, type RememberInput } from './validate-record.js';
import type { WriteOperation, WriteResult } from './write-operation.js';

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
}

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
  #closed = false;

  /** @internal Use openStore(). */
  constructor(engine: StoreEngine, engineName: StoreStats['engine'], options: ResolvedStoreOptions) {
    this.#engine = engine;
    this.#engineName = engineName;
    this.#limits = options.limits;
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
   * Stores one memory and resolves with the stored record. With a `key` already in the store,
   * resolves with the record first stored under it and writes nothing.
   */
  async remember(input: RememberInput): Promise<MemoryRecord> {
    this.#assertOpen();
    const valid = validateRecordInput(input, this.#limits);
    const [record] = await this.#writes.submit([{ kind: 'remember', input: valid }]);
    return record as MemoryRecord;
  }

  /** Stores several memories in one transaction: all of them, or (on bad input) none. */
  async rememberMany(inputs: readonly RememberInput[]): Promise<MemoryRecord[]> {
    this.#assertOpen();
    if (!Array.isArray(inputs)) throw new StoreValidationError('items', 'expected an array of records');
    const operations: WriteOperation[] = inputs.map((input, index) => ({
      kind: 'remember',
      input: validateRecordInput(input, this.#limits, `items[${index}].`),
    }));
    if (operations.length === 0) return [];
    return (await this.#writes.submit(operations)) as MemoryRecord[];
  }

  /**
   * Finds records by words (full-text, best match first), tags (all of them), contextPath prefix,
   * layer and time, and counts one recall for each record found. Counts are written in batches
   * (see recallFlushIntervalMs); the records returned already include this recall.
   */
  async recall(query?: RecallQuery): Promise<MemoryRecord[]> {
    this.#assertOpen();
    const valid = validateRecallQuery(query);
    const found = await this.#engine.recall(valid);
    return found.map((record) => {
      this.#recallCounts.add(record.seq);
      return { ...record, recallCount: record.recallCount + this.#recallCounts.pendingFor(record.seq) };
    });
  }

  /** The record with this id, or null. */
  async get(id: string): Promise<MemoryRecord | null> {
    this.#assertOpen();
    validateId(id);
    return (await this.#engine.get(id)) ?? null;
  }

  /** Deletes the record with this id; resolves true if it existed. */
  async forget(id: string): Promise<boolean> {
    this.#assertOpen();
    validateId(id);
    const [existed] = await this.#writes.submit([{ kind: 'forget', id }]);
    return existed as boolean;
  }

  /**
   * Moves records from the `application` layer to `archive`: by `ids`, created before
   * `olderThan`, or with a recall count below `recallCountBelow`. Resolves with how many moved.
   */
  async archive(selector: ArchiveSelector): Promise<number> {
    this.#assertOpen();
    const valid = validateArchiveSelector(selector);
    const [moved] = await this.#writes.submit([{ kind: 'archive', selector: valid }]);
    return moved as number;
  }

  /** Waits for the writes in flight, then writes the recall counts gathered so far. */
  async flush(): Promise<void> {
    this.#assertOpen();
    await this.#writes.settled();
    await this.#recallCounts.flush();
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
    try {
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

function validateId(id: unknown): void {
  if (typeof id !== 'string' || id === '') throw new StoreValidationError('id', 'expected a non-empty string');
}
