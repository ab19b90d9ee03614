import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { LineChild } from '../shared/line-child.js';
import { GO_PREFIX } from '../shared/line-protocol.js';
import { percentileOfSorted } from '../shared/statistics.js';
import { PostgresRowTarget } from './postgres-target.js';
import { createRawDatabase } from './raw-sqlite.js';
import { parseWriterReport, type WriterKind, type WriterReport, type WriterSpec } from './writer-protocol.js';

const WRITER_ENTRY = fileURLToPath(new URL('./writer.ts', import.meta.url));

/**
 * The rows of the table. 1 and 2: memhub, one call at a time or many in flight per process.
 * 1pg and 2pg: the same on PostgreSQL (`--engine postgres`).
 * 3a, 3b: the ceilings, bare better-sqlite3 in one process. 3c: the naive multi-process peer.
 * 3d: the flock peer, bare better-sqlite3 in P processes committing row 2's batches under a flock.
 */
export type RowId = '1' | '1n' | '2' | '2n' | '1pg' | '2pg' | '3a' | '3b' | '3c' | '3d';

export interface RowPlan {
  readonly id: RowId;
  readonly kind: WriterKind;
  readonly processes: number;
  readonly recordsPerProcess: number;
  readonly warmupRecords: number;
  /** memhub: calls outstanding per process. */
  readonly inFlight: number;
  /** memhub: whether the store keeps its JSONL layer mirror (memhub's default) or not. */
  readonly mirror: boolean;
  /** sqlite-batch, sqlite-flock-batch: INSERTs per transaction. */
  readonly batchSize: number;
  /** sqlite kinds: busy_timeout. */
  readonly busyTimeoutMs: number;
  /** memhub-postgres: the server, each row in a fresh schema of its database. */
  readonly postgresUrl?: string;
}

export interface RowTimeouts {
  /** How long the writers may take to start (tsx compiles on the fly) and write their warm-up. */
  readonly startMs: number;
  /** How long the measured run may take. */
  readonly runMs: number;
}

export interface RowResult {
  readonly plan: RowPlan;
  /** Parent's wall time from sending `go` to the last report. */
  readonly wallMs: number;
  /** Records written by all processes together per second of that wall time. */
  readonly recordsPerSecond: number;
  readonly attempted: number;
  readonly written: number;
  readonly busyErrors: number;
  readonly otherErrors: number;
  readonly firstError: string | undefined;
  /** Write transactions of all processes (memhub: group-commit batches). */
  readonly transactions: number;
  /** Latency of every call of every process, in microseconds. */
  readonly latencyUs: { readonly p50: number; readonly p99: number; readonly max: number };
  /** Records in the database after the writers closed, against what should be there. */
  readonly count: { readonly expected: number; readonly actual: number | undefined };
  /**
   * memhub on SQLite: the share of the wall time that some process held the store's write lock
   * (the processes' hold times added up, over the wall time); undefined for the other rows.
   */
  readonly lockBusy: number | undefined;
  /** Row 3d: the share of its transactions that a process began right after its own last one, with no other process's commit between. */
  readonly afterOwnShare: number | undefined;
  /** memhub rows: WAL checkpoints of all processes, and the largest WAL a process saw at its end. */
  readonly checkpoints: { readonly completed: number; readonly starved: number; readonly walBytes: number } | undefined;
  /** Why the row stopped early, when it did. */
  readonly failure: string | undefined;
}

/**
 * Runs one row in a fresh folder of `folder`: starts its writer processes, waits until every one
 * has opened its database and written its warm-up records, sends `go` to all at once, and
 * collects their reports; then lets them close and counts the records in the database.
 */
export async function runRow(plan: RowPlan, folder: string, timeouts: RowTimeouts): Promise<RowResult> {
  const rowFolder = join(folder, `row-${plan.id}-p${plan.processes}`);
  mkdirSync(rowFolder);
  let writerPath: string;
  let databasePath: string;
  const postgres = plan.postgresUrl === undefined ? undefined : new PostgresRowTarget(plan.postgresUrl, `${plan.id}_p${plan.processes}`);
  if (plan.kind === 'memhub' || plan.kind === 'memhub-postgres') {
    writerPath = join(rowFolder, 'store');
    databasePath = join(writerPath, 'memory.db');
  } else {
    writerPath = join(rowFolder, 'raw', 'memory.db');
    databasePath = writerPath;
    await createRawDatabase(writerPath);
  }

  const children = Array.from({ length: plan.processes }, (_, writer) => {
    const spec: WriterSpec = {
      kind: plan.kind,
      path: writerPath,
      writer,
      warmupRecords: plan.warmupRecords,
      records: plan.recordsPerProcess,
      inFlight: plan.inFlight,
      mirror: plan.mirror,
      batchSize: plan.batchSize,
      busyTimeoutMs: plan.busyTimeoutMs,
      ...(postgres === undefined ? {} : { postgres: { url: postgres.url, schema: postgres.schema } }),
    };
    return new LineChild('writer', WRITER_ENTRY, [JSON.stringify(spec)]);
  });
  let reports: WriterReport[] = [];
  let wallMs = Number.NaN;
  let failure: string | undefined;
  try {
    await Promise.all(children.map((child) => child.ready(timeouts.startMs)));
    const start = performance.now();
    for (const child of children) child.send(`${GO_PREFIX}${plan.recordsPerProcess}`);
    const texts = await Promise.all(children.map((child) => child.resultJson(timeouts.runMs)));
    wallMs = performance.now() - start;
    reports = texts.map(parseWriterReport);
  } catch (error) {
    failure = error instanceof Error ? error.message : String(error);
    for (const child of children) child.kill();
  } finally {
    const endings = await Promise.all(children.map((child) => child.stop(30_000)));
    const bad = endings.find((ending) => ending !== 'exit code 0');
    if (failure === undefined && bad !== undefined) failure = `a writer ended with ${bad} after its report`;
  }

  const expected =
    plan.kind === 'memhub' || plan.kind === 'memhub-postgres'
      ? plan.processes * (plan.warmupRecords + plan.recordsPerProcess)
      : reports.reduce((sum, report) => sum + report.warmupWritten + report.written, 0);
  let actual: number | undefined;
  if (postgres === undefined) {
    actual = countRecords(databasePath);
  } else {
    actual = await postgres.countRecords();
    await postgres.drop();
  }
  return summarise(plan, reports, wallMs, failure, { expected, actual });
}

/** `SELECT count(*) FROM records`, on a read-only connection opened after every writer closed. */
function countRecords(databasePath: string): number | undefined {
  let db: Database.Database | undefined;
  try {
    db = new Database(databasePath, { readonly: true, fileMustExist: true });
    return Number(db.prepare('SELECT count(*) FROM records').pluck().get());
  } catch {
    return undefined;
  } finally {
    db?.close();
  }
}

function summarise(
  plan: RowPlan,
  reports: readonly WriterReport[],
  wallMs: number,
  failure: string | undefined,
  count: RowResult['count'],
): RowResult {
  const sum = (pick: (report: WriterReport) => number) => reports.reduce((total, report) => total + pick(report), 0);
  const latencies = reports.flatMap((report) => report.latenciesUs).sort((a, b) => a - b);
  const written = sum((report) => report.written);
  const withCheckpoints = reports.flatMap((report) => (report.checkpoints === undefined ? [] : [report.checkpoints]));
  const lockHeld = reports.flatMap((report) => (report.lockHeldMs === undefined ? [] : [report.lockHeldMs]));
  const afterOwn = reports.flatMap((report) => (report.transactionsAfterOwn === undefined ? [] : [report.transactionsAfterOwn]));
  return {
    plan,
    wallMs,
    recordsPerSecond: failure === undefined ? written / (wallMs / 1000) : Number.NaN,
    attempted: sum((report) => report.attempted),
    written,
    busyErrors: sum((report) => report.busyErrors),
    otherErrors: sum((report) => report.otherErrors),
    transactions: sum((report) => report.transactions),
    firstError: reports.find((report) => report.firstError !== undefined)?.firstError,
    latencyUs: {
      p50: percentileOfSorted(latencies, 50),
      p99: percentileOfSorted(latencies, 99),
      max: latencies.length === 0 ? Number.NaN : (latencies[latencies.length - 1] as number),
    },
    count,
    lockBusy:
      failure === undefined && reports.length > 0 && lockHeld.length === reports.length
        ? lockHeld.reduce((total, ms) => total + ms, 0) / wallMs
        : undefined,
    afterOwnShare:
      failure === undefined && afterOwn.length > 0 && afterOwn.length === reports.length
        ? afterOwn.reduce((total, count) => total + count, 0) / sum((report) => report.transactions)
        : undefined,
    checkpoints:
      withCheckpoints.length === 0
        ? undefined
        : {
            completed: withCheckpoints.reduce((total, c) => total + c.completed, 0),
            starved: withCheckpoints.reduce((total, c) => total + c.starved, 0),
            walBytes: Math.max(...withCheckpoints.map((c) => c.walBytes)),
          },
    failure,
  };
}
