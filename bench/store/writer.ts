/**
 * One writer process of `pnpm bench:store`, started by run.ts:
 *
 *   node --conditions=@memhub/source --import tsx store/writer.ts '<WriterSpec as JSON>'
 *
 * It opens its store or database, writes its warm-up records the same way it will write the
 * measured ones (so that the JIT, SQLite's page cache and memhub's statements are warm), says
 * `ready`, waits for `go <records>`, writes them, and reports every call's latency. It closes
 * only on `exit`. See writer-protocol.ts for the lines exchanged with the parent.
 */
import { closeSync, openSync } from 'node:fs';
import { hrtime } from 'node:process';
import { createInterface } from 'node:readline';
import { lockMetrics } from '@memhub/lock';
import { openStore, type Store } from '@memhub/store';
import type Database from 'better-sqlite3';
import { flockSync, LOCK_EX, LOCK_UN } from '../shared/bare-flock.js';
import { EXIT_LINE, GO_PREFIX, READY_LINE, RESULT_PREFIX } from '../shared/line-protocol.js';
import { openRawConnection, prepareInsert } from './raw-sqlite.js';
import { makeRecords, type BenchRecord } from './records.js';
import { parseWriterSpec, type WriterReport, type WriterSpec } from './writer-protocol.js';

/** Writes records and tells what happened; `call` is one remember() or one transaction. */
interface Writer {
  write(records: readonly BenchRecord[]): Promise<Tally>;
  /** Anything to add to the report once the run is over (not timed). */
  extra(): Promise<Pick<WriterReport, 'checkpoints'>>;
  close(): Promise<void>;
}

/** Counts and latencies of one run. */
class Tally {
  readonly latenciesUs: number[] = [];
  transactions = 0;
  /** memhub on SQLite: milliseconds the store's write lock was held by this process. */
  lockHeldMs: number | undefined;
  /** sqlite-flock-batch: transactions that followed this process's own last commit (see WriterReport). */
  transactionsAfterOwn: number | undefined;
  written = 0;
  busyErrors = 0;
  otherErrors = 0;
  firstError: string | undefined;

  /** Latency since `start` (an hrtime.bigint()), in microseconds rounded to 0.1. */
  lap(start: bigint): void {
    this.latenciesUs.push(Math.round(Number(hrtime.bigint() - start) / 100) / 10);
  }

  fail(error: unknown): void {
    if ((error as { code?: unknown } | null)?.code === 'SQLITE_BUSY') this.busyErrors += 1;
    else this.otherErrors += 1;
    this.firstError ??= error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  }
}

/** This process's use of the store's write lock so far: acquisitions (one per group-commit transaction) and time held. */
function storeLockUse(): { acquisitions: number; heldMs: number } {
  const locks = lockMetrics().filter((metrics) => metrics.path.endsWith('memory.db.lock'));
  return {
    acquisitions: locks.reduce((sum, metrics) => sum + metrics.acquisitions, 0),
    heldMs: locks.reduce((sum, metrics) => sum + metrics.hold.totalMs, 0),
  };
}

async function openMemhubWriter(spec: WriterSpec): Promise<Writer> {
  // Defaults throughout, as an application would open it: durability 'normal' (WAL,
  // synchronous=NORMAL), the JSONL mirror on (the mirror-off rows turn only that off), or on
  // PostgreSQL the server's own settings.
  const store: Store = await openStore(
    spec.postgres === undefined ? { dir: spec.path, mirror: spec.mirror } : { url: spec.postgres.url, schema: spec.postgres.schema },
  );
  // One write transaction per group commit: the flock's acquisitions on SQLite, the engine's count on PostgreSQL.
  const transactionsSoFar = async () => (spec.postgres === undefined ? storeLockUse().acquisitions : ((await store.stats()).writeTransactions ?? 0));
  const rememberOne = async (record: BenchRecord, tally: Tally) => {
    const start = hrtime.bigint();
    try {
      await store.remember({ content: record.content, tags: record.tags, contextPath: record.contextPath });
      tally.written += 1;
    } catch (error) {
      tally.fail(error);
    }
    tally.lap(start);
  };
  return {
    async write(records) {
      const tally = new Tally();
      let next = 0;
      // `inFlight` lanes, each awaiting one remember() at a time: that many calls are outstanding
      // at any moment, and all of them meet in memhub's group commit.
      const lane = async () => {
        for (let record = records[next++]; record !== undefined; record = records[next++]) await rememberOne(record, tally);
      };
      const transactionsBefore = await transactionsSoFar();
      const heldBefore = storeLockUse().heldMs;
      await Promise.all(Array.from({ length: Math.max(1, spec.inFlight) }, lane));
      tally.transactions = (await transactionsSoFar()) - transactionsBefore;
      if (spec.postgres === undefined) tally.lockHeldMs = storeLockUse().heldMs - heldBefore;
      return tally;
    },
    async extra() {
      const stats = await store.stats();
      return { checkpoints: { completed: 0, starved: 0, ...stats.checkpoints, walBytes: stats.walBytes ?? 0 } };
    },
    close: () => store.close(),
  };
}

function openSqliteWriter(spec: WriterSpec): Writer {
  const db: Database.Database = openRawConnection(spec.path, spec.busyTimeoutMs);
  const insert = prepareInsert(db);
  let write: (records: readonly BenchRecord[], tally: Tally) => void;
  let lockFd: number | undefined;
  switch (spec.kind) {
    case 'sqlite-autocommit': {
      // One record a transaction, the cheapest way to commit it: better-sqlite3's (deferred)
      // transaction around its statements, with no other process to contend with.
      const insertOne = db.transaction((record: BenchRecord) => insert(record));
      write = (records, tally) => {
        for (const record of records) {
          const start = hrtime.bigint();
          try {
            insertOne(record);
            tally.written += 1;
          } catch (error) {
            tally.fail(error);
          }
          tally.lap(start);
        }
      };
      break;
    }
    case 'sqlite-batch': {
      const insertBatch = db.transaction((batch: readonly BenchRecord[]) => {
        for (const record of batch) insert(record);
      });
      write = (records, tally) => {
        for (let offset = 0; offset < records.length; offset += spec.batchSize) {
          const batch = records.slice(offset, offset + spec.batchSize);
          const start = hrtime.bigint();
          try {
            insertBatch(batch);
            tally.written += batch.length;
          } catch (error) {
            tally.fail(error);
          }
          tally.lap(start);
        }
      };
      break;
    }
    case 'sqlite-naive': {
      // What a program does that shares a SQLite file between processes with nothing but
      // busy_timeout: every record in its own write transaction, taken with BEGIN IMMEDIATE.
      const begin = db.prepare('BEGIN IMMEDIATE');
      const commit = db.prepare('COMMIT');
      const rollback = db.prepare('ROLLBACK');
      write = (records, tally) => {
        for (const record of records) {
          const start = hrtime.bigint();
          try {
            begin.run();
            insert(record);
            commit.run();
            tally.written += 1;
          } catch (error) {
            if (db.inTransaction) rollback.run();
            tally.fail(error);
          }
          tally.lap(start);
        }
      };
      break;
    }
    case 'sqlite-flock-batch': {
      // memhub's write path with nothing of memhub in it: each process takes the store's lock file
      // (created with the database by openStore) with a blocking flock, so that a released lock is
      // taken at once, writes `batchSize` records between BEGIN IMMEDIATE and COMMIT, and unlocks.
      // No queue, validation, id or JSON work, mirror, promises or fairness: what is left is the
      // SQL and the hand-offs, an upper bound for any store that commits each process's records
      // in transactions of its own. flock(2) does not queue its waiters, so the releaser often
      // takes the lock straight back; data_version, which changes when another connection
      // commits, tells how often that happened.
      lockFd = openSync(`${spec.path}.lock`, 'r+');
      const fd = lockFd;
      const begin = db.prepare('BEGIN IMMEDIATE');
      const commit = db.prepare('COMMIT');
      const dataVersion = db.prepare('PRAGMA data_version').pluck();
      let versionAfterOwnCommit: unknown;
      write = (records, tally) => {
        tally.transactionsAfterOwn = 0;
        for (let offset = 0; offset < records.length; offset += spec.batchSize) {
          const batch = records.slice(offset, offset + spec.batchSize);
          const start = hrtime.bigint();
          flockSync(fd, LOCK_EX);
          try {
            if (dataVersion.get() === versionAfterOwnCommit) tally.transactionsAfterOwn += 1;
            begin.run();
            for (const record of batch) insert(record);
            commit.run();
            versionAfterOwnCommit = dataVersion.get();
            tally.written += batch.length;
          } catch (error) {
            if (db.inTransaction) db.exec('ROLLBACK');
            tally.fail(error);
          } finally {
            flockSync(fd, LOCK_UN);
          }
          tally.lap(start);
        }
      };
      break;
    }
    case 'memhub':
    case 'memhub-postgres':
      throw new Error('openSqliteWriter() got a memhub spec');
  }
  return {
    async write(records) {
      const tally = new Tally();
      write(records, tally);
      tally.transactions = tally.latenciesUs.length;
      return tally;
    },
    extra: async () => ({}),
    async close() {
      db.close();
      if (lockFd !== undefined) closeSync(lockFd);
    },
  };
}

async function main(): Promise<void> {
  const spec = parseWriterSpec(process.argv[2] ?? '');
  const writer = spec.kind === 'memhub' || spec.kind === 'memhub-postgres' ? await openMemhubWriter(spec) : openSqliteWriter(spec);
  const commands = createInterface({ input: process.stdin });
  try {
    // Warm-up records come from another writer number's sequence, so that no content is repeated.
    const warmup = await writer.write(makeRecords(spec.writer + 1000, spec.warmupRecords));
    const records = makeRecords(spec.writer, spec.records);
    process.stdout.write(`${READY_LINE}\n`);
    for await (const line of commands) {
      if (line === EXIT_LINE) break;
      if (!line.startsWith(GO_PREFIX)) throw new Error(`unexpected command "${line}"`);
      const count = Number(line.slice(GO_PREFIX.length));
      if (!Number.isInteger(count) || count < 0 || count > records.length) throw new Error(`bad command "${line}"`);
      const start = hrtime.bigint();
      const tally = await writer.write(records.slice(0, count));
      const elapsedMs = Number(hrtime.bigint() - start) / 1e6;
      const report: WriterReport = {
        pid: process.pid,
        warmupWritten: warmup.written,
        attempted: count,
        written: tally.written,
        busyErrors: tally.busyErrors,
        otherErrors: tally.otherErrors,
        transactions: tally.transactions,
        firstError: tally.firstError,
        elapsedMs,
        latenciesUs: tally.latenciesUs,
        ...(tally.lockHeldMs === undefined ? {} : { lockHeldMs: tally.lockHeldMs }),
        ...(tally.transactionsAfterOwn === undefined ? {} : { transactionsAfterOwn: tally.transactionsAfterOwn }),
        ...(await writer.extra()),
      };
      process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(report)}\n`);
    }
  } finally {
    commands.close();
    await writer.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`writer ${process.pid} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
