import { statSync } from 'node:fs';
import type { FileLock, LockHandle } from '@memhub/lock';
import { StoreReplacedError } from '../../errors.js';
import type { StoreLogger } from '../../store-logger.js';
import { isSqliteBusy, retryWhileBusy } from './sqlite-busy.js';
import { storeErrorOf } from './sqlite-errors.js';

export interface SqliteWriteGateOptions {
  /** The store's folder, absolute. */
  readonly dir: string;
  /** memory.db's path. */
  readonly databasePath: string;
  readonly lockTimeoutMs: number;
  /** How long SQLite's own write lock may stay taken by someone else before StoreBusyError. */
  readonly busyTimeoutMs: number;
  readonly logger: StoreLogger;
}

/** What a caller of run() and tryRun() tells the gate about its work. */
export interface GateOptions {
  /**
   * Runs once the flock is held, before the checks (a fault point for crash tests); returns
   * whether the thread stood still there, and the hold is then confirmed again.
   */
  readonly beforeConfirm?: () => boolean;
  /**
   * The work is a write transaction that calls beforeCommit() before its COMMIT: memory.db's
   * identity is checked there, covering the whole transaction, and not also before BEGIN (a
   * `stat` a write). A replaced database is then found a few statements later, and the
   * transaction rolls back: the same StoreReplacedError, nothing written.
   */
  readonly checksBeforeCommit?: boolean;
}

/**
 * The way into every write of one SQLite connection: the store's flock, then the checks that make
 * sure the write goes where the store's users will find it, then the caller's synchronous work
 * (BEGIN IMMEDIATE ... COMMIT), then the release. Lock order (DESIGN rule 3): the group-commit
 * queue in front, then this.
 *
 * - The lock file may have been deleted or replaced while another process held it: a holder on
 *   the old inode and one on the new file would both be "in". The grant of each write checks the
 *   file at the path right before BEGIN (and the write waits again if someone else has it), and
 *   the hold is confirmed again before COMMIT (see beforeCommit).
 * - memory.db itself may have been deleted or replaced (the store folder removed and created
 *   again): the connection would go on writing to a file nobody can reach. Its device and inode
 *   are compared with those opened, by stat(2) (no descriptor: DESIGN rule 1), before COMMIT
 *   (and before BEGIN, for work that does not call beforeCommit); on a change, this write and
 *   every later one fail with StoreReplacedError.
 * - A program outside memhub may hold SQLite's write lock (SQLITE_BUSY): the flock is released,
 *   the wait goes on asynchronously, and past busyTimeoutMs it is a StoreBusyError.
 */
export class SqliteWriteGate {
  readonly #lock: FileLock;
  readonly #options: SqliteWriteGateOptions;
  #identity: { readonly dev: number; readonly ino: number } | undefined;
  #replaced = false;
  #splitWarned = false;

  constructor(lock: FileLock, options: SqliteWriteGateOptions) {
    this.#lock = lock;
    this.#options = options;
  }

  /**
   * Notes which file memory.db is, right after SQLite opened it (SQLite creates it; memhub never
   * opens it itself). A file replaced between SQLite's open and this stat would go unnoticed, a
   * window of one system call at open.
   */
  rememberDatabaseIdentity(): void {
    const stat = statSync(this.#options.databasePath, { throwIfNoEntry: false });
    this.#identity = stat === undefined ? undefined : { dev: stat.dev, ino: stat.ino };
  }

  /** Throws StoreReplacedError when memory.db at the path is not the file this store opened (then and ever after). */
  assertSameDatabase(): void {
    if (!this.#replaced) {
      const identity = this.#identity;
      if (identity === undefined) return;
      const now = statSync(this.#options.databasePath, { throwIfNoEntry: false });
      if (now !== undefined && now.dev === identity.dev && now.ino === identity.ino) return;
      this.#replaced = true;
    }
    throw new StoreReplacedError(this.#options.databasePath);
  }

  /** Whether a write found memory.db replaced: nothing more goes through this gate. */
  get foundReplaced(): boolean {
    return this.#replaced;
  }

  /** Throws StoreReplacedError if a write already found memory.db replaced (no system call). */
  assertNotFoundReplaced(): void {
    if (this.#replaced) throw new StoreReplacedError(this.#options.databasePath);
  }

  /**
   * Runs `work` synchronously under the store's write lock, with the checks above; retried while
   * SQLite reports another writer (work must leave nothing behind when it throws: a transaction
   * rolls back). `options.lockTimeoutMs` and `options.busyTimeoutMs` wait less than the store's own
   * for the flock and for SQLite's lock (for work that has another way out); see GateOptions for
   * the others. What SQLite or the filesystem throws becomes a typed StoreError.
   *
   * The hold is not confirmed again right after it is granted: the grant itself checked, one
   * system call before, that the locked descriptor is the file at the path (DESIGN rule 7). Only a
   * thread that stood still since (a test froze it in `beforeConfirm`) confirms it again, and
   * waits like anyone else if another process has the file at the path now.
   */
  async run<T>(
    purpose: string,
    action: string,
    work: (held: LockHandle) => T,
    options: GateOptions & { readonly lockTimeoutMs?: number; readonly busyTimeoutMs?: number; readonly signal?: AbortSignal } = {},
  ): Promise<T> {
    const { dir } = this.#options;
    const lockTimeoutMs = Math.min(options.lockTimeoutMs ?? this.#options.lockTimeoutMs, this.#options.lockTimeoutMs);
    const busyTimeoutMs = Math.min(options.busyTimeoutMs ?? this.#options.busyTimeoutMs, this.#options.busyTimeoutMs);
    return retryWhileBusy(
      async () => {
        for (;;) {
          this.assertNotFoundReplaced();
          const held = await this.#lock.acquire({ purpose, timeoutMs: lockTimeoutMs, ...(options.signal === undefined ? {} : { signal: options.signal }) });
          try {
            // Another process locked the file now at the path: wait for it like anyone else.
            if (!this.#readyToWork(held, options)) continue;
            return work(held);
          } catch (error) {
            throw isSqliteBusy(error) ? error : storeErrorOf(error, dir, action);
          } finally {
            held.release();
          }
        }
      },
      { dir, action, timeoutMs: busyTimeoutMs },
    );
  }

  /**
   * run() without waiting: the work runs if the flock is free right now and no waiter of another
   * process has waited past the lock's fairness threshold (then it goes first); else undefined,
   * and nothing was done. SQLITE_BUSY is not retried here: it is thrown, for the caller to wait.
   */
  tryRun<T>(purpose: string, action: string, work: (held: LockHandle) => T, options: GateOptions = {}): { readonly value: T } | undefined {
    this.assertNotFoundReplaced();
    const held = this.#lock.tryAcquire({ purpose, yieldToStarved: true });
    if (held === null) return undefined;
    try {
      if (!this.#readyToWork(held, options)) return undefined;
      return { value: work(held) };
    } catch (error) {
      throw isSqliteBusy(error) ? error : storeErrorOf(error, this.#options.dir, action);
    } finally {
      held.release();
    }
  }

  /**
   * The checks between a grant and its work. The hold is confirmed again only when the grant's
   * own check of the lock path may be stale: the thread stood still in `beforeConfirm`, or the
   * hold is reentrant (its outer hold's grant checked, some time ago). Returns false when another
   * process has the file at the path now. memory.db's identity is checked here unless the work
   * checks it before its COMMIT (GateOptions.checksBeforeCommit); a change throws.
   */
  #readyToWork(held: LockHandle, options: GateOptions): boolean {
    const stoodStill = options.beforeConfirm?.() === true;
    if ((stoodStill || held.reentrant) && !held.confirm()) return false;
    if (options.checksBeforeCommit !== true) this.assertSameDatabase();
    return true;
  }

  /**
   * Inside the write transaction, right before COMMIT: memory.db must still be the file at the path
   * (else the transaction rolls back and the callers are told), and the hold is confirmed again. A
   * hold that another process shares now (it locked a new lock file created at the path during
   * this transaction) still commits: SQLite's own write lock, held since BEGIN IMMEDIATE, keeps that
   * process out of the database until this COMMIT, and it retries; the next write here waits for it.
   */
  beforeCommit(held: LockHandle): void {
    this.assertSameDatabase();
    if (held.confirm() || this.#splitWarned) return;
    this.#splitWarned = true;
    this.#options.logger.warn(
      { lockFile: this.#lock.path },
      'memhub: the store lock file was deleted or replaced during a write and another process locked the new one; ' +
        "SQLite's own write lock kept the two writes apart. Never delete memory.db.lock: a lock file is never stale",
    );
  }
}
