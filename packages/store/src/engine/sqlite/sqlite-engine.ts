import { statSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { lockMetrics, LockTimeoutError, openLock, type FileLock, type LockHandle } from '@memhub/lock';
import type Database from 'better-sqlite3';
import { StoreAccessError, StoreBusyError, StoreCorruptError } from '../../errors.js';
import type { MemoryRecord, RecordVersion } from '../../memory-record.js';
import type { StoreLogger } from '../../store-logger.js';
import type { ValidRecallQuery } from '../../validate-recall.js';
import type { RecallCandidate } from '../../recall-ranking.js';
import type { EngineVerifyReport } from '../../verify-report.js';
import { hitFaultPoint } from '../../fault-points.js';
import { PageSizer } from '../../page-sizer.js';
import { highestSeqInLayerFiles, JsonlMirror, type LayerMirrorStats } from '../../mirror/jsonl-mirror.js';
import type { IndexLookup } from '../../mirror/layer-index.js';
import { isWithin, type WriteOperation, type WriteResult } from '../../write-operation.js';
import { layerTotals, type ChosenRecord, type EngineStats, type HistoryTarget, type StoreEngine } from '../store-engine.js';
import { isCurrentSchema, migrateSchema, openSqliteConnection, type Durability } from './sqlite-database.js';
import { historyOfRows, recordFromRow } from './sqlite-record.js';
import { WalCheckpointer, type CheckpointStats } from './sqlite-checkpointer.js';
import { SqliteMirrorSource } from './sqlite-mirror-source.js';
import { SqliteRecall, usesSearchIndex } from './sqlite-recall.js';
import { applyMirrorSetting, currentMirrorSetting, lastSeqOf, raiseSequenceTo, unfinishedRebuildStartedAt } from './sqlite-settings.js';
import { SqliteStatements } from './sqlite-statements.js';
import { checkDatabase, rebuildDerivedData } from './sqlite-verify.js';
import { SqliteWriter } from './sqlite-writer.js';
import { storeErrorOf } from './sqlite-errors.js';
import { isSqliteBusy, retryWhileBusy, SQLITE_BUSY_SLICE_MS } from './sqlite-busy.js';
import { SqliteWriteGate } from './sqlite-write-gate.js';
import { INDEX_AFTER_MS, SEARCH_DATABASE_FILE, SqliteSearchDatabase } from './sqlite-search-database.js';
import { ensureStoreFolder } from './store-folder.js';
import { SharedCommit, type HandoverStats } from './sqlite-shared-commit.js';

export interface SqliteEngineOptions {
  /** The store's folder, absolute. */
  readonly dir: string;
  readonly durability: Durability;
  readonly busyTimeoutMs: number;
  readonly lockTimeoutMs: number;
  /** The write lock's starvation threshold (@memhub/lock `starvationMs`). */
  readonly lockStarvationMs: number;
  readonly walCheckpointBytes: number;
  readonly allowUnsafeFilesystem: boolean;
  readonly logger: StoreLogger;
  /**
   * Which layers to mirror to JSONL: '*' (every layer), 'off', or a JSON array of layer names;
   * undefined keeps the store's setting ('*' for a new store).
   */
  readonly mirror: string | undefined;
}

/** The SQLite engine's part of stats(). */
export interface SqliteEngineStats extends EngineStats {
  /** Bytes of memory.db-wal, read with stat (no descriptor is opened on it). */
  readonly walBytes: number;
  /** This process's WAL checkpoints. */
  readonly checkpoints: CheckpointStats;
  /** The layer mirrors this process has written to, with their sizes and counters. */
  readonly mirror: readonly LayerMirrorStats[];
  /**
   * The search index: records not indexed yet (the tail, indexed in batches: see
   * SqliteSearchDatabase), and records this store object indexed.
   */
  readonly search: { readonly unindexedRecords: number; readonly recordsIndexed: number };
  /** This store object's part in committing across processes (sqlite-shared-commit.ts). */
  readonly handover: HandoverStats;
}

/**
 * How long a recall waits for the search index's lock to index the tail before it searches the
 * tail directly: a page of the tail holds it for about ten milliseconds; past this, something
 * holds it for long (or is frozen).
 */
const RECALL_INDEX_WAIT_MS = 100;
/** How long close() waits for the search index's lock to index the tail before leaving it to the next process. */
const CLOSE_INDEX_WAIT_MS = 100;
/**
 * A leader that commits for other processes leaves the indexing to them (they wait for its
 * answers, with time to spare) unless the tail grows this long: then nobody else keeps up.
 */
const LEADER_INDEX_SEQS = 8_192;
/** How often at most a store object reads whether the search index's tail is due. */
const INDEX_CHECK_EVERY_MS = 25;

export const DATABASE_FILE = 'memory.db';
export const WRITE_LOCK_FILE = 'memory.db.lock';
/**
 * Held shared by every open store (every process and worker thread that has the database open,
 * for as long as it is open); rebuildFromMirror() takes it exclusively, so that "nobody has the
 * store open" is a lock, not a guess: an open waits for a rebuild, and a rebuild refuses while any
 * store is open.
 */
export const PRESENCE_LOCK_FILE = 'memory.db.presence.lock';
/** Held by the one process (or thread) that commits for the others: the write leader (SharedCommit). */
export const LEADER_LOCK_FILE = 'memory.db.leader.lock';
/** The write leader's Unix socket, where the others hand it their batches. */
export const LEADER_SOCKET_FILE = 'memory.db.leader.sock';
/** A Unix socket's path must fit in sockaddr_un (108 bytes on Linux, 104 on the BSDs), terminator included. */
const MAX_SOCKET_PATH_BYTES = 103;

/**
 * The embedded engine: one SQLite database (WAL) in the store's folder, every write under an
 * exclusive flock on `memory.db.lock` taken before BEGIN IMMEDIATE, so that SQLite's own write
 * lock is never contended between memhub processes and SQLITE_BUSY never reaches a caller.
 */
export class SqliteEngine implements StoreEngine {
  readonly location: string;
  readonly #db: Database.Database;
  readonly #lock: FileLock;
  readonly #presence: { readonly lock: FileLock; readonly held: LockHandle };
  readonly #gate: SqliteWriteGate;
  readonly #busyTimeoutMs: number;
  readonly #gateLockTimeoutMs: number;
  /** The background catch-up of the search index running in this store object, if any. */
  #indexing: Promise<void> | undefined;
  /** Brings a tail that is not due by size in within INDEX_AFTER_MS. */
  #indexTimer: NodeJS.Timeout | undefined;
  #closing = false;
  #indexingFailed = false;
  /** Whether this store object's last commit was a round it led for other processes too. */
  #leadingOthers = false;
  /** Epoch ms before which #indexSoon does not read the tail again. */
  #nextIndexCheck = 0;
  readonly #logger: StoreLogger;
  readonly #statements: SqliteStatements;
  readonly #writer: SqliteWriter;
  readonly #search: SqliteSearchDatabase;
  readonly #checkpointer: WalCheckpointer;
  readonly #recall: SqliteRecall;
  readonly #mirror: JsonlMirror;
  readonly #sharedCommit: SharedCommit;
  readonly #dataVersion: Database.Statement<unknown[], number>;

  private constructor(
    db: Database.Database,
    lock: FileLock,
    presence: { readonly lock: FileLock; readonly held: LockHandle },
    gate: SqliteWriteGate,
    search: SqliteSearchDatabase,
    options: SqliteEngineOptions,
  ) {
    this.location = options.dir;
    this.#db = db;
    this.#lock = lock;
    this.#presence = presence;
    this.#gate = gate;
    this.#busyTimeoutMs = options.busyTimeoutMs;
    this.#gateLockTimeoutMs = options.lockTimeoutMs;
    this.#statements = new SqliteStatements(db);
    this.#search = search;
    this.#logger = options.logger;
    // Recall reads the search index's connection, where memory.db is attached.
    this.#recall = new SqliteRecall(search.db);
    this.#writer = new SqliteWriter(db, this.#statements, { appliedThrough: () => search.removalsApplied() });
    this.#checkpointer = new WalCheckpointer(db, {
      walPath: join(options.dir, `${DATABASE_FILE}-wal`),
      walCheckpointBytes: options.walCheckpointBytes,
      busyTimeoutMs: SQLITE_BUSY_SLICE_MS,
      logger: options.logger,
    });
    this.#mirror = new JsonlMirror(
      {
        dir: options.dir,
        syncAppends: options.durability === 'full',
        lockTimeoutMs: options.lockTimeoutMs,
        allowUnsafeFilesystem: options.allowUnsafeFilesystem,
        logger: options.logger,
        sameDatabase: () => {
          try {
            gate.assertSameDatabase();
            return true;
          } catch {
            return false;
          }
        },
      },
      new SqliteMirrorSource(db, this.#statements),
    );
    const socketPath = join(options.dir, LEADER_SOCKET_FILE);
    this.#dataVersion = db.prepare('PRAGMA data_version').pluck() as Database.Statement<unknown[], number>;
    this.#sharedCommit = new SharedCommit({
      gate,
      writer: this.#writer,
      mirror: this.#mirror,
      checkpointer: this.#checkpointer,
      statements: this.#statements,
      leaderLease: openLock(join(options.dir, LEADER_LOCK_FILE), { purpose: 'memhub write leader', allowUnsafeFilesystem: options.allowUnsafeFilesystem }),
      socketPath: Buffer.byteLength(socketPath) <= MAX_SOCKET_PATH_BYTES ? socketPath : undefined,
      writeLockPath: lock.path,
      lockTimeoutMs: options.lockTimeoutMs,
      reading: (action, read) => this.#reading(action, read),
      get: (id) => this.get(id),
      logger: options.logger,
      dataVersion: () => this.#dataVersion.get() as number,
      committed: (leadingOthers) => this.#indexSoon(leadingOthers),
    });
  }

  /**
   * Creates the folder if needed, opens the database and brings its schema and settings up to
   * date under the write lock, then catches every layer mirror up (which heals a writer that died
   * between its commit and its append, and cuts off a torn last line). Safe when many processes
   * open a new store at the same moment.
   */
  static async open(options: SqliteEngineOptions): Promise<SqliteEngine> {
    try {
      return await SqliteEngine.#open(options);
    } catch (error) {
      throw storeErrorOf(error, options.dir, 'open the store');
    }
  }

  static async #open(options: SqliteEngineOptions): Promise<SqliteEngine> {
    ensureStoreFolder(options.dir);
    const lockOptions = { timeoutMs: options.lockTimeoutMs, allowUnsafeFilesystem: options.allowUnsafeFilesystem };
    const presenceLock = openLock(join(options.dir, PRESENCE_LOCK_FILE), { ...lockOptions, purpose: 'memhub store open' });
    let presence: { lock: FileLock; held: LockHandle } | undefined;
    let lock: FileLock | undefined;
    let db: Database.Database | undefined;
    let search: SqliteSearchDatabase | undefined;
    let engine: SqliteEngine | undefined;
    try {
      presence = { lock: presenceLock, held: await presenceLock.acquire({ mode: 'shared', purpose: 'memhub store open' }) };
      lock = openLock(join(options.dir, WRITE_LOCK_FILE), { ...lockOptions, purpose: 'memhub', starvationMs: options.lockStarvationMs });
      const databasePath = join(options.dir, DATABASE_FILE);
      db = openSqliteConnection(databasePath, options.durability, SQLITE_BUSY_SLICE_MS);
      const connection = db;
      const gate = new SqliteWriteGate(lock, { ...options, databasePath });
      gate.rememberDatabaseIdentity();
      // Most opens change nothing: the schema is current, the mirror setting is as asked, no
      // layer file is ahead of the database. Those take no lock and write nothing, so a store
      // opens even while another process holds its write lock for a long time.
      const settled = await retryWhileBusy(
        () => {
          const currentSchema = isCurrentSchema(connection);
          if (currentSchema) refuseUnfinishedRebuild(connection, options.dir);
          return (
            currentSchema &&
            (options.mirror === undefined || currentMirrorSetting(connection) === options.mirror) &&
            highestSeqInLayerFiles(options.dir) <= lastSeqOf(connection)
          );
        },
        { dir: options.dir, action: 'open the store', timeoutMs: options.busyTimeoutMs },
      );
      if (!settled) {
        await gate.run('memhub open: schema', 'open the store', () =>
          migrateSchema(connection, () => {
            if (options.mirror !== undefined) applyMirrorSetting(connection, options.mirror);
            const highestMirrored = highestSeqInLayerFiles(options.dir);
            if (raiseSequenceTo(connection, highestMirrored)) {
              options.logger.warn(
                { highestMirrored },
                'memhub: a layer mirror has changes the database does not (was memory.db restored from an older copy?); verify() lists them',
              );
            }
          }),
        );
      }
      search = await SqliteSearchDatabase.open(options.dir, {
        ...options,
        busyTimeoutMs: SQLITE_BUSY_SLICE_MS,
        onFallback: (reason) =>
          options.logger.warn(
            { reason },
            `memhub: the search index (${SEARCH_DATABASE_FILE}) cannot be used here; recalls index what they need in memory. If the file is damaged, remove it (with -wal and -shm) while no process has the store open: it is made again from the records`,
          ),
      });
      engine = new SqliteEngine(connection, lock, presence, gate, search, options);
      await engine.#mirror.catchUpAll();
      return engine;
    } catch (error) {
      if (engine !== undefined) await engine.close().catch(() => {});
      else {
        db?.close();
        search?.close();
        lock?.close();
        presence?.held.release();
        presenceLock.close();
      }
      throw error;
    }
  }

  /**
   * Commits the operations in one transaction under the write lock, written by this process if
   * it leads, else handed to the leader that commits for every process (SharedCommit). Waiting for
   * the flock never blocks the event loop; once it is held, the whole transaction runs
   * synchronously (BEGIN IMMEDIATE ... COMMIT), so neither is held across an await.
   */
  async write(operations: readonly WriteOperation[], afterCommit: () => void): Promise<WriteResult[]> {
    return this.#sharedCommit.write(operations, afterCommit);
  }

  async history(target: HistoryTarget): Promise<RecordVersion[]> {
    return this.#reading('read a record\'s history', () =>
      // One read transaction: the record and its versions as of one commit.
      this.#db.transaction(() => {
        let row = this.#statements.recordById.get(target.id);
        if (row === undefined || !isWithin(row.context_path, target.within)) row = this.#statements.recordByKey.get(target.key);
        if (row === undefined || !isWithin(row.context_path, target.within)) return [];
        return historyOfRows(this.#statements.versionsOf.all(row.id), row);
      }).deferred(),
    );
  }

  async get(id: string): Promise<MemoryRecord | undefined> {
    return this.#reading('read a record', () => {
      const row = this.#statements.recordById.get(id);
      return row === undefined ? undefined : recordFromRow(row);
    });
  }

  /**
   * Read-your-writes: a record acknowledged before this call is found, indexed or not. The words
   * and tags are looked up in the search index, so a tail of unindexed records is indexed first,
   * under the write lock; when that lock is not to be had within RECALL_INDEX_WAIT_MS (a long
   * transaction elsewhere, a frozen writer, a store this process may only read), the tail is
   * searched directly instead (SqliteRecall.find), and recall goes on without the lock.
   */
  async recall<T extends { readonly seq: number }>(query: ValidRecallQuery, choose: (candidates: readonly RecallCandidate[]) => readonly T[]): Promise<ChosenRecord<T>[]> {
    let unindexedAfter: number | undefined;
    if (usesSearchIndex(query) && (await this.#reading('recall', () => this.#search.isBehind()))) {
      unindexedAfter = await this.#catchUpSearchIndex('recall', RECALL_INDEX_WAIT_MS);
    }
    return this.#reading('recall', () => this.#recall.recall(query, unindexedAfter, choose));
  }

  /** Brings the views up to date (flush()): this process's owed mirror lines appended, every record written so far indexed. */
  async flush(): Promise<void> {
    await this.#sharedCommit.flushMirror();
    if (!(await this.#reading('index the records', () => this.#search.isBehind()))) return;
    const cursor = await this.#catchUpSearchIndex('index the records', this.#gateLockTimeoutMs);
    if (cursor !== undefined) throw new StoreAccessError(`Cannot index the records of ${this.location}: the search index's lock was not had in ${this.#gateLockTimeoutMs} ms`);
  }

  /**
   * Indexes the tail under the search index's lock, waiting for the lock `waitMs` at most (the
   * store's write lock is not taken: writers go on meanwhile). Resolves with undefined once every
   * record written before the call is indexed, or with the index's cursor (every record above it
   * is unindexed) when the lock could not be had in time.
   */
  async #catchUpSearchIndex(action: string, waitMs: number): Promise<number | undefined> {
    this.#gate.assertNotFoundReplaced();
    let complete: boolean;
    try {
      complete = await this.#search.catchUp(waitMs);
    } catch (error) {
      throw storeErrorOf(error, this.location, action);
    }
    return complete ? undefined : this.#reading(action, () => this.#search.through());
  }

  /**
   * After a commit of this store object (its own batch, or a round it led): indexes the tail in
   * the background when it is due, off the write path (under the search index's own lock,
   * without the store's). A leader committing for other processes leaves it to them (they have
   * time while they wait for its answers) unless the tail grows past LEADER_INDEX_SEQS.
   */
  #indexSoon(leadingOthers = this.#leadingOthers): void {
    this.#leadingOthers = leadingOthers;
    if (this.#indexing !== undefined || this.#closing) return;
    // The check reads both databases: a few times a second is enough (a tail grows by hundreds of
    // seqs between checks at most), where once per commit cost a tenth of a core one at a time.
    const now = Date.now();
    if (now < this.#nextIndexCheck) {
      this.#armIndexTimer(this.#nextIndexCheck - now);
      return;
    }
    this.#nextIndexCheck = now + INDEX_CHECK_EVERY_MS;
    let due: boolean;
    try {
      due = leadingOthers ? this.#search.tailSeqs() >= LEADER_INDEX_SEQS : this.#search.isDue(now);
    } catch {
      // A read that found a lock taken: the next commit looks again.
      return;
    }
    if (!due) {
      // A slow writer's tail: indexed once its oldest record is INDEX_AFTER_MS old.
      this.#armIndexTimer(INDEX_AFTER_MS);
      return;
    }
    this.#indexing = this.#search
      .catchUp(0)
      .then(() => {
        this.#indexingFailed = false;
      })
      .catch((error: unknown) => {
        // Told once until indexing works again: it is retried after every commit.
        if (!this.#indexingFailed) this.#logger.warn({ error: String(error) }, 'memhub: indexing the search index failed; recalls index the records themselves, or search them directly');
        this.#indexingFailed = true;
      })
      .finally(() => {
        this.#indexing = undefined;
      });
  }

  /** Looks at the tail again after `delayMs`, unless a look is scheduled already. */
  #armIndexTimer(delayMs: number): void {
    if (this.#indexTimer !== undefined) return;
    this.#indexTimer = setTimeout(() => {
      this.#indexTimer = undefined;
      this.#indexSoon();
    }, delayMs);
    this.#indexTimer.unref();
  }

  async stats(): Promise<SqliteEngineStats> {
    return this.#reading('read the statistics', () => this.#stats());
  }

  #stats(): SqliteEngineStats {
    return {
      ...layerTotals(this.#statements.countByLayer.all()),
      search: { unindexedRecords: this.#search.unindexedRecords(), recordsIndexed: this.#search.recordsIndexed },
      databaseBytes: fileSize(join(this.location, DATABASE_FILE)),
      walBytes: fileSize(join(this.location, `${DATABASE_FILE}-wal`)),
      checkpoints: this.#checkpointer.checkpoints,
      mirror: this.#mirror.stats(),
      handover: this.#sharedCommit.stats(),
      locks: lockMetrics().filter((metrics) => metrics.path.startsWith(`${dirname(this.#lock.realPath)}${sep}`)),
    };
  }

  /** Every record in seq order, a page at a time (one short read transaction each, sized by PageSizer). */
  async *records(): AsyncIterable<MemoryRecord> {
    const pages = new PageSizer();
    let after = 0;
    for (;;) {
      const limit = pages.size;
      const page = await this.#reading('read the records', () => this.#statements.recordsAfter.all(after, limit));
      pages.measured(page.length, page.reduce((chars, row) => chars + row.content.length, 0));
      for (const row of page) yield recordFromRow(row);
      if (page.length < limit) return;
      after = (page[page.length - 1] as (typeof page)[number]).seq;
    }
  }

  /**
   * Checks the database in a read transaction of its own, without the write lock: on a large
   * store the checks take seconds, and writers go on meanwhile (see checkDatabase).
   */
  async verify(): Promise<EngineVerifyReport> {
    // Removals and the tail applied first where the index's lock can be had: what is left is compared as it is.
    await this.#catchUpSearchIndex('verify the store', RECALL_INDEX_WAIT_MS);
    const problems = await this.#reading('verify the store', () => [...checkDatabase(this.#db), ...this.#search.check()]);
    const mirror = await this.#mirror.verify().catch((error: unknown) => Promise.reject(storeErrorOf(error, this.location, 'verify the mirror')));
    const { records } = await this.stats();
    return { records, problems: [...problems, ...mirror.problems], layers: mirror.layers };
  }

  async repair(): Promise<readonly string[]> {
    const actions = await this.#gate.run('memhub repair', 'repair the store', (held) =>
      this.#db
        .transaction(() => {
          const done = rebuildDerivedData(this.#db);
          this.#gate.beforeCommit(held);
          return done;
        })
        .immediate(),
    );
    await this.#search.rebuild(this.#gateLockTimeoutMs).catch((error: unknown) => Promise.reject(storeErrorOf(error, this.location, 'rebuild the search index')));
    actions.push('rebuilt the full-text index and the tag rows from the records');
    const mirrored = await this.#mirror.repair().catch((error: unknown) => Promise.reject(storeErrorOf(error, this.location, 'repair the mirror')));
    return [...actions, ...mirrored];
  }

  /** A record's latest line in a layer's JSONL mirror, read through the layer's index. */
  async lookupInMirror(layer: string, id: string): Promise<IndexLookup> {
    return this.#mirror.lookup(layer, id);
  }

  /**
   * Runs a read, turning what SQLite throws into a typed StoreError. A read that finds one of
   * SQLite's locks taken (SQLITE_BUSY: a checkpoint resetting the WAL, a connection recovering it)
   * is retried asynchronously, never by blocking in SQLite's busy handler.
   */
  #reading<T>(action: string, read: () => T): T | Promise<T> {
    this.#gate.assertNotFoundReplaced();
    try {
      return read();
    } catch (error) {
      if (!isSqliteBusy(error)) throw storeErrorOf(error, this.location, action);
    }
    return retryWhileBusy(read, { dir: this.location, action, timeoutMs: this.#busyTimeoutMs }).catch((error: unknown) =>
      Promise.reject(storeErrorOf(error, this.location, action)),
    );
  }

  /**
   * Indexes the tail if the write lock can be had within CLOSE_INDEX_WAIT_MS (else the next writer,
   * recall or flush does it: nothing is lost, the records are written), then closes the mirror,
   * the connection and the locks.
   */
  async close(): Promise<void> {
    try {
      await this.#sharedCommit.close();
      this.#closing = true;
      if (this.#indexTimer !== undefined) clearTimeout(this.#indexTimer);
      await this.#indexing;
      if (!this.#gate.foundReplaced && this.#search.isBehind()) await this.#catchUpSearchIndex('index the records', CLOSE_INDEX_WAIT_MS).catch(() => undefined);
      await this.#mirror.close();
    } finally {
      this.#search.close();
      this.#db.close();
      this.#lock.close();
      this.#presence.held.release();
      this.#presence.lock.close();
    }
  }
}

/**
 * A database left by a rebuildFromMirror() that was cut off holds only part of the mirror: opened
 * as a store, it would look like a store that lost records. Run the rebuild again instead. Only
 * on the current schema (a rebuild always writes it).
 */
function refuseUnfinishedRebuild(db: Database.Database, dir: string): void {
  const startedAt = unfinishedRebuildStartedAt(db);
  if (startedAt === undefined) return;
  throw new StoreCorruptError(
    `${join(dir, DATABASE_FILE)} is a rebuild from the layer mirrors that did not finish (started ${startedAt}): ` +
      'run rebuildFromMirror() (memhub rebuild) again; it replaces this file, keeping it beside the new one',
  );
}

/** A file's size by stat: no descriptor is opened (DESIGN rule 1). */
function fileSize(path: string): number {
  return statSync(path, { throwIfNoEntry: false })?.size ?? 0;
}
