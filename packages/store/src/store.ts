import { mkdirSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { openLock, type FileLock } from '@memhub/lock';
import type Database from 'better-sqlite3';
import { migrateSchema, openSqliteConnection, type Durability } from './engine/sqlite/sqlite-database.js';
import { SqliteRecall } from './engine/sqlite/sqlite-recall.js';
import { SqliteStatements } from './engine/sqlite/sqlite-statements.js';
import { SqliteWriter, type CheckpointStats } from './engine/sqlite/sqlite-writer.js';
import { StoreClosedError, StoreValidationError } from './errors.js';
import { GroupCommit } from './group-commit.js';
import { recordFromRow, type MemoryRecord } from './memory-record.js';
import { RecallCounts } from './recall-counts.js';
import { silentLogger, type StoreLogger } from './store-logger.js';
import { validateArchiveSelector, type ArchiveSelector } from './validate-archive.js';
import { validateRecallQuery, type RecallQuery } from './validate-recall.js';
import { validateRecordInput, type RecordLimits, type RememberInput } from './validate-record.js';
import type { WriteOperation, WriteResult } from './write-operation.js';

/** Options of openStore(); each has a default that suits most users. */
export interface StoreOptions {
  /** The store's folder, created if missing. */
  readonly dir: string;
  /** `'normal'` (default): WAL + synchronous=NORMAL. `'full'`: the WAL is synced on every commit. */
  readonly durability?: Durability;
  /** SQLite's busy_timeout, for the rare lock SQLite itself waits on. Default 5000. */
  readonly busyTimeoutMs?: number;
  /** How long a write waits for the store's write lock before failing with LockTimeoutError. Default 30000. */
  readonly lockTimeoutMs?: number;
  /** Largest `content`, in UTF-8 bytes. Default 1 MiB. */
  readonly maxContentBytes?: number;
  /** Open on a network or FUSE filesystem anyway (see @memhub/lock). Default false. */
  readonly allowUnsafeFilesystem?: boolean;
  /** Recall counts are written at least this often (ms). Default 1000. */
  readonly recallFlushIntervalMs?: number;
  /** ...and as soon as this many increments wait. Default 1000. */
  readonly recallFlushPending?: number;
  /** Past this WAL size, the writer runs a TRUNCATE checkpoint under the write lock. Default 64 MiB. */
  readonly walCheckpointBytes?: number;
  /** Receives warnings (checkpoint starvation, recall counts not written yet). pino-compatible. */
  readonly logger?: StoreLogger;
}

/** What stats() reports. */
export interface StoreStats {
  readonly dir: string;
  readonly records: number;
  readonly recordsByLayer: Readonly<Record<string, number>>;
  /** Bytes of memory.db and memory.db-wal, read with stat (no descriptor is opened on them). */
  readonly databaseBytes: number;
  readonly walBytes: number;
  /** Recall-count increments of this process not written yet. */
  readonly pendingRecallCounts: number;
  /** This process's WAL checkpoints. */
  readonly checkpoints: CheckpointStats;
}

const DEFAULT_BUSY_TIMEOUT_MS = 5_000;
const DEFAULT_LOCK_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_CONTENT_BYTES = 1024 * 1024;
const DEFAULT_RECALL_FLUSH_INTERVAL_MS = 1_000;
const DEFAULT_RECALL_FLUSH_PENDING = 1_000;
const DEFAULT_WAL_CHECKPOINT_BYTES = 64 * 1024 * 1024;

interface StoreSettings {
  readonly limits: RecordLimits;
  readonly lockTimeoutMs: number;
  readonly busyTimeoutMs: number;
  readonly recallFlushIntervalMs: number;
  readonly recallFlushPending: number;
  readonly walCheckpointBytes: number;
  readonly logger: StoreLogger;
}

/**
 * A memory store in one folder, shared safely by any number of processes and worker threads.
 *
 * ```ts
 * const store = await openStore({ dir: './memory' });
 * const record = await store.remember({ content: 'the build needs Node 20', tags: ['build'] });
 * await store.close();
 * ```
 *
 * Every change goes through one queue per store object: the changes that meet there are written
 * in one transaction under the store's exclusive flock (group commit).
 */
export class Store {
  readonly dir: string;
  readonly #db: Database.Database;
  readonly #lock: FileLock;
  readonly #statements: SqliteStatements;
  readonly #writer: SqliteWriter;
  readonly #writes: GroupCommit<WriteOperation, WriteResult>;
  readonly #recall: SqliteRecall;
  readonly #recallCounts: RecallCounts;
  readonly #limits: RecordLimits;
  #closed = false;

  /** @internal Use openStore(). */
  constructor(dir: string, db: Database.Database, lock: FileLock, settings: StoreSettings) {
    this.dir = dir;
    this.#db = db;
    this.#lock = lock;
    this.#limits = settings.limits;
    this.#statements = new SqliteStatements(db);
    this.#recall = new SqliteRecall(db);
    this.#writer = new SqliteWriter(db, this.#statements, {
      walPath: join(dir, 'memory.db-wal'),
      walCheckpointBytes: settings.walCheckpointBytes,
      busyTimeoutMs: settings.busyTimeoutMs,
      logger: settings.logger,
    });
    this.#writes = new GroupCommit(lock, (operations) => this.#writer.apply(operations), 'memhub write transaction', settings.lockTimeoutMs);
    this.#recallCounts = new RecallCounts(
      async (increments, onCommitted) => {
        await this.#writes.submit([{ kind: 'add-recall-counts', increments }], onCommitted);
      },
      settings.recallFlushIntervalMs,
      settings.recallFlushPending,
      settings.logger,
    );
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
   * Finds records by words (FTS5, best match first), tags (all of them), contextPath prefix,
   * layer and time, and counts one recall for each record found. Counts are written in batches
   * (see recallFlushIntervalMs); the records returned already include this recall.
   */
  async recall(query?: RecallQuery): Promise<MemoryRecord[]> {
    this.#assertOpen();
    const valid = validateRecallQuery(query);
    return this.#recall.find(valid).map((row) => {
      this.#recallCounts.add(row.seq);
      return recordFromRow({ ...row, recall_count: row.recall_count + this.#recallCounts.pendingFor(row.seq) });
    });
  }

  /** The record with this id, or null. */
  async get(id: string): Promise<MemoryRecord | null> {
    this.#assertOpen();
    validateId(id);
    const row = this.#statements.recordById.get(id);
    return row === undefined ? null : recordFromRow(row);
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
    const recordsByLayer: Record<string, number> = {};
    let records = 0;
    for (const { layer, records: count } of this.#statements.countByLayer.all()) {
      recordsByLayer[layer] = count;
      records += count;
    }
    return {
      dir: this.dir,
      records,
      recordsByLayer,
      databaseBytes: fileSize(join(this.dir, 'memory.db')),
      walBytes: fileSize(join(this.dir, 'memory.db-wal')),
      pendingRecallCounts: this.#recallCounts.pending,
      checkpoints: this.#writer.checkpoints,
    };
  }

  /**
   * Waits for the writes in flight, writes the pending recall counts, then closes the database
   * and the lock. Idempotent. If the counts cannot be written it still closes, and rethrows.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#writes.settled();
      await this.#recallCounts.close();
    } finally {
      await this.#writes.settled();
      this.#db.close();
      this.#lock.close();
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #assertOpen(): void {
    if (this.#closed) throw new StoreClosedError(this.dir);
  }
}

/**
 * Opens (creating if needed) the store in `options.dir`. Safe when many processes open a new
 * store at the same moment: the schema is created once, under the store's write lock.
 */
export async function openStore(options: StoreOptions): Promise<Store> {
  const given = options as Partial<StoreOptions> | undefined;
  if (typeof given !== 'object' || given === null) throw new StoreValidationError('options', 'expected an object');
  if (typeof given.dir !== 'string' || given.dir === '') throw new StoreValidationError('dir', 'expected a non-empty path');
  const durability = given.durability ?? 'normal';
  if (durability !== 'normal' && durability !== 'full') {
    throw new StoreValidationError('durability', `expected 'normal' or 'full', got ${String(durability)}`);
  }
  const logger = given.logger ?? silentLogger;
  if (typeof logger !== 'object' || logger === null || typeof logger.warn !== 'function') {
    throw new StoreValidationError('logger', 'expected an object with a warn(details, message) method');
  }
  const settings: StoreSettings = {
    limits: { maxContentBytes: positiveNumber(given.maxContentBytes, DEFAULT_MAX_CONTENT_BYTES, 'maxContentBytes') },
    lockTimeoutMs: positiveNumber(given.lockTimeoutMs, DEFAULT_LOCK_TIMEOUT_MS, 'lockTimeoutMs'),
    busyTimeoutMs: positiveNumber(given.busyTimeoutMs, DEFAULT_BUSY_TIMEOUT_MS, 'busyTimeoutMs'),
    recallFlushIntervalMs: positiveNumber(given.recallFlushIntervalMs, DEFAULT_RECALL_FLUSH_INTERVAL_MS, 'recallFlushIntervalMs'),
    recallFlushPending: positiveNumber(given.recallFlushPending, DEFAULT_RECALL_FLUSH_PENDING, 'recallFlushPending'),
    walCheckpointBytes: positiveNumber(given.walCheckpointBytes, DEFAULT_WAL_CHECKPOINT_BYTES, 'walCheckpointBytes'),
    logger,
  };

  const dir = isAbsolute(given.dir) ? given.dir : resolve(given.dir);
  if (dir.includes('\0')) throw new StoreValidationError('dir', 'contains a NUL character');
  const existing = statSync(dir, { throwIfNoEntry: false });
  if (existing !== undefined && !existing.isDirectory()) throw new StoreValidationError('dir', `${dir} exists and is not a folder`);
  mkdirSync(dir, { recursive: true });
  const lock = openLock(join(dir, 'memory.db.lock'), {
    purpose: 'memhub',
    timeoutMs: settings.lockTimeoutMs,
    allowUnsafeFilesystem: given.allowUnsafeFilesystem ?? false,
  });
  let db: Database.Database | undefined;
  try {
    db = openSqliteConnection(join(dir, 'memory.db'), durability, settings.busyTimeoutMs);
    const connection = db;
    const held = await lock.acquire({ purpose: 'memhub open: schema' });
    try {
      migrateSchema(connection, durability);
    } finally {
      held.release();
    }
    return new Store(dir, connection, lock, settings);
  } catch (error) {
    db?.close();
    lock.close();
    throw error;
  }
}

function validateId(id: unknown): void {
  if (typeof id !== 'string' || id === '') throw new StoreValidationError('id', 'expected a non-empty string');
}

function positiveNumber(value: unknown, fallback: number, field: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new StoreValidationError(field, `expected a positive number, got ${String(value)}`);
  }
  return value;
}

function fileSize(path: string): number {
  return statSync(path, { throwIfNoEntry: false })?.size ?? 0;
}
