import type { Kysely } from 'kysely';
import type pg from 'pg';
import { StoreCompatibilityError } from '../../errors.js';
import type { WriteOperation, WriteResult } from '../../write-operation.js';
import { PostgresBatch } from './postgres-batch.js';
import { asConnectionError, isLockTimeout } from './postgres-errors.js';
import { FaultPoint } from './postgres-fault.js';
import type { ResolvedPostgresOptions } from './postgres-options.js';
import type { PostgresTables } from './postgres-tables.js';
import { beginWriteSql, lockTimeoutError, writeLockKey } from './postgres-write-lock.js';

/** What a piece of work inside a write transaction leaves behind: its result, and the seq counter's new value. */
export interface LockedWork<T> {
  readonly value: T;
  /** The highest seq handed out, written back to the counter; undefined to leave the counter as the work left it. */
  readonly lastSeq: number | undefined;
}

/**
 * Every change to a PostgreSQL store goes through here, one transaction at a time per store
 * object (the group commit queues them), in one shape:
 *
 *   BEGIN; pg_advisory_xact_lock(<the schema's key>); read seq_counter     (one round trip)
 *   -> the batch's statements, seqs handed out from the counter
 *   -> UPDATE seq_counter; COMMIT                                             (one round trip)
 *
 * The lock is held from before the counter is read until the COMMIT has made the rows visible,
 * so seqs increase in commit order across every process and host: a reader that tails
 * `seq > cursor` never skips a record that committed late. Under READ COMMITTED each statement
 * sees every transaction that committed before it, so the lock is all the isolation the batch
 * needs: no serialization failure or deadlock can reach a caller.
 */
export class PostgresWriter {
  readonly #pool: pg.Pool;
  readonly #db: Kysely<PostgresTables>;
  readonly #options: ResolvedPostgresOptions;
  readonly #key: bigint;
  readonly #beginSql: string;
  readonly #fault = new FaultPoint();
  #transactions = 0;

  constructor(pool: pg.Pool, db: Kysely<PostgresTables>, options: ResolvedPostgresOptions, lockTimeoutMs: number) {
    this.#pool = pool;
    this.#db = db;
    this.#options = options;
    this.#key = writeLockKey(options.schema);
    this.#beginSql = `${beginWriteSql(this.#key, lockTimeoutMs, options.statementTimeoutMs)}SELECT last_seq FROM "${options.schema}".seq_counter`;
  }

  /** Write transactions this store object has committed. */
  get transactions(): number {
    return this.#transactions;
  }

  /** Applies the operations in order, in one transaction; `afterCommit` runs right after the COMMIT. */
  async write(operations: readonly WriteOperation[], afterCommit: () => void): Promise<WriteResult[]> {
    const results = await this.underWriteLock(async (client, lastSeq) => {
      if (lastSeq === undefined) {
        throw new StoreCompatibilityError(`The seq counter of ${this.#options.location} is missing (changed from outside memhub); run repair()`);
      }
      const batch = new PostgresBatch(client, this.#db, lastSeq);
      const value = await batch.apply(operations);
      return { value, lastSeq: batch.lastSeq };
    });
    afterCommit();
    return results;
  }

  /**
   * Runs `work` in a write transaction under the store's advisory lock and commits it, writing
   * the seq counter back if the work moved it. `lastSeq` is the counter as read under the lock
   * (undefined if its row is missing). On any failure the transaction is rolled back; a
   * connection that cannot even roll back is dropped from the pool.
   */
  async underWriteLock<T>(work: (client: pg.PoolClient, lastSeq: number | undefined) => Promise<LockedWork<T>>): Promise<T> {
    let client: pg.PoolClient | undefined;
    let broken = false;
    try {
      client = await this.#pool.connect();
      const started = performance.now();
      let lastSeq: number | undefined;
      try {
        const results = (await client.query(this.#beginSql)) as unknown as pg.QueryResult<{ last_seq: number }>[];
        lastSeq = results.at(-1)?.rows[0]?.last_seq;
      } catch (error) {
        broken = !(await rollBack(client));
        if (isLockTimeout(error) && !broken) {
          throw await lockTimeoutError(client, this.#options.location, this.#key, performance.now() - started);
        }
        throw error;
      }
      let outcome: LockedWork<T>;
      try {
        outcome = await work(client, lastSeq);
        await this.#fault.beforeCommit(this.#transactions + 1);
        await client.query(
          outcome.lastSeq === undefined || outcome.lastSeq === lastSeq ? 'COMMIT' : `UPDATE "${this.#options.schema}".seq_counter SET last_seq = ${outcome.lastSeq};\nCOMMIT`,
        );
      } catch (error) {
        broken = !(await rollBack(client));
        throw error;
      }
      this.#transactions += 1;
      return outcome.value;
    } catch (error) {
      throw asConnectionError(error, this.#options.host, this.#options.connectTimeoutMs) ?? error;
    } finally {
      client?.release(broken);
    }
  }
}

/** ROLLBACK; false when the connection cannot even do that (it is then dropped). */
async function rollBack(client: pg.PoolClient): Promise<boolean> {
  try {
    await client.query('ROLLBACK');
    return true;
  } catch {
    return false;
  }
}
