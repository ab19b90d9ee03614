import { statSync } from 'node:fs';
import type Database from 'better-sqlite3';
import type { StoreLogger } from '../../store-logger.js';

export interface WalCheckpointerOptions {
  /** The WAL file, watched with stat (never opened: DESIGN rule 1). */
  readonly walPath: string;
  /** Past this size, a TRUNCATE checkpoint runs after the commit. */
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
 * Keeps the WAL bounded. When readers never stop, SQLite's automatic (passive) checkpoints can
 * never restart the WAL, and it would grow without end; so after a commit, still under the write
 * lock, a WAL past its threshold gets a TRUNCATE checkpoint with a short busy timeout of its own.
 */
export class WalCheckpointer {
  readonly #db: Database.Database;
  readonly #options: WalCheckpointerOptions;
  #checkpoints = { completed: 0, starved: 0 };
  #nextCheckpointAttempt = 0;
  #checkpointRetryMs = CHECKPOINT_RETRY_FIRST_MS;

  constructor(db: Database.Database, options: WalCheckpointerOptions) {
    this.#db = db;
    this.#options = options;
  }

  get checkpoints(): CheckpointStats {
    return { ...this.#checkpoints };
  }

  /** Runs under the write lock, after a commit. Never throws: the batch is committed already. */
  checkpointIfLarge(): void {
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
