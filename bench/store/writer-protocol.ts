/**
 * What the parent (run.ts) and each writer child (writer.ts) say to each other, in the lines of
 * ../shared/line-protocol.ts. The child gets its WriterSpec as JSON in argv, opens its database,
 * writes its warm-up records, and says `ready`. `go <records>` starts the measured run; the child
 * answers `result <WriterReport as JSON>` as soon as its last write has resolved, and closes its
 * store or database only on `exit` (so that closing, and the WAL checkpoint of the last
 * connection to close, are not timed).
 */

/** How a writer child writes. */
export const WRITER_KINDS = [
  /** memhub `await store.remember()`, with `inFlight` calls outstanding at any time (1 = one at a time). */
  'memhub',
  /** The same, on a store in a PostgreSQL schema (`postgres`) instead of a folder. */
  'memhub-postgres',
  /** better-sqlite3, memhub's statements for one record in a transaction of its own. */
  'sqlite-autocommit',
  /** better-sqlite3, `batchSize` INSERTs per transaction. */
  'sqlite-batch',
  /** better-sqlite3, `BEGIN IMMEDIATE` / INSERT / `COMMIT` per record, relying on busy_timeout alone. */
  'sqlite-naive',
  /** better-sqlite3, `batchSize` INSERTs per `BEGIN IMMEDIATE` transaction, each under a blocking flock of the store's lock file. */
  'sqlite-flock-batch',
] as const;
export type WriterKind = (typeof WRITER_KINDS)[number];

export interface WriterSpec {
  readonly kind: WriterKind;
  /** memhub: the store folder. sqlite: the database file (created, in WAL mode, by the parent). */
  readonly path: string;
  /** 0-based number of this writer in its row: picks its records (records.ts). */
  readonly writer: number;
  /** Records written, the same way, before `ready` (not timed, but in the database). */
  readonly warmupRecords: number;
  /** Records that `go` may ask for. */
  readonly records: number;
  /** memhub: calls outstanding at once. */
  readonly inFlight: number;
  /** memhub: keep the JSONL layer mirror (the default) or not. */
  readonly mirror: boolean;
  /** sqlite-batch, sqlite-flock-batch: INSERTs per transaction. */
  readonly batchSize: number;
  /** sqlite kinds: busy_timeout in ms. */
  readonly busyTimeoutMs: number;
  /** memhub-postgres: the server and the row's schema. */
  readonly postgres?: { readonly url: string; readonly schema: string };
}

/** What one writer did in its measured run. */
export interface WriterReport {
  readonly pid: number;
  /** Warm-up records written before `ready` (a naive writer's can fail with SQLITE_BUSY). */
  readonly warmupWritten: number;
  /** Records it tried to write. */
  readonly attempted: number;
  /** Records whose write succeeded (resolved, or committed). */
  readonly written: number;
  /** Failed writes whose error was SQLITE_BUSY, and all the others. */
  readonly busyErrors: number;
  readonly otherErrors: number;
  /** The first error message, if any. */
  readonly firstError: string | undefined;
  /**
   * Write transactions it committed or tried: memhub, its acquisitions of the store's write lock
   * (one per group-commit batch, from @memhub/lock's lockMetrics(); on PostgreSQL, from
   * stats().writeTransactions); sqlite, one per call.
   */
  readonly transactions: number;
  /** Its own time from `go` to its last write resolving, in milliseconds. */
  readonly elapsedMs: number;
  /**
   * Latency of every call (remember(), or one transaction of the sqlite kinds), in microseconds
   * with 0.1 us steps, timed with process.hrtime, failed calls included.
   */
  readonly latenciesUs: readonly number[];
  /**
   * memhub on SQLite only: how long this process held the store's write lock during the run, in
   * milliseconds (@memhub/lock's hold.totalMs). Added up over the processes and divided by the
   * wall time, it says how busy the lock was.
   */
  readonly lockHeldMs?: number;
  /**
   * sqlite-flock-batch only: its transactions that began with no other process's commit since its
   * own last one (SQLite's `PRAGMA data_version` unchanged), i.e. it took the lock back in turn.
   */
  readonly transactionsAfterOwn?: number;
  /** memhub only: this process's WAL checkpoints (stats().checkpoints) and the WAL's size at the end. */
  readonly checkpoints?: { readonly completed: number; readonly starved: number; readonly walBytes: number };
}

export function parseWriterReport(json: string): WriterReport {
  const value = JSON.parse(json) as Partial<WriterReport>;
  const counts = [value.pid, value.warmupWritten, value.attempted, value.written, value.busyErrors, value.otherErrors, value.transactions, value.elapsedMs];
  if (
    !counts.every((count) => typeof count === 'number') ||
    !Array.isArray(value.latenciesUs) ||
    !value.latenciesUs.every((latency) => typeof latency === 'number')
  ) {
    throw new Error(`malformed writer report: ${json.slice(0, 200)}`);
  }
  return value as WriterReport;
}

export function parseWriterSpec(json: string): WriterSpec {
  const value = JSON.parse(json) as Partial<WriterSpec>;
  if (
    !(WRITER_KINDS as readonly unknown[]).includes(value.kind) ||
    typeof value.path !== 'string' ||
    ![value.writer, value.warmupRecords, value.records, value.inFlight, value.batchSize, value.busyTimeoutMs].every(
      (count) => Number.isInteger(count) && (count as number) >= 0,
    )
  ) {
    throw new Error(`malformed writer spec: ${json.slice(0, 200)}`);
  }
  return value as WriterSpec;
}
