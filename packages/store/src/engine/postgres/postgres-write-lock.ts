import { createHash } from 'node:crypto';
import { LockTimeoutError, type HolderInfo } from '@memhub/lock';
import type pg from 'pg';

/**
 * The store's write lock on PostgreSQL: a transaction-scoped advisory lock
 * (`pg_advisory_xact_lock`), the counterpart of the flock on memory.db.lock. The server releases
 * it when the transaction ends, by COMMIT, ROLLBACK or the client's death (its connection
 * closes), so a crashed writer never blocks the others, and it works through any connection pool.
 * Session-level advisory locks are never used: a pooled connection would keep them after its user
 * is gone.
 *
 * The key is derived from the schema name, so each store in a database has its own lock, and it
 * lives in the single-bigint key space (pg_locks.objsubid 1) that memhub uses alone.
 */
export function writeLockKey(schema: string): bigint {
  return createHash('sha256').update(`memhub write lock\0${schema}`).digest().readBigInt64BE(0);
}

/**
 * The statements that open a write transaction, sent in one round trip: BEGIN, the lock (waited
 * for at most `lockTimeoutMs`; the statement timeout does not cut that wait short), then the
 * statement timeout back for the transaction's other statements. Every value is a number computed
 * here, so the text is built without parameters, as a multi-statement simple query must be.
 */
export function beginWriteSql(key: bigint, lockTimeoutMs: number, statementTimeoutMs: number): string {
  const lockWaitMs = Math.min(2_147_483_647, Math.ceil(lockTimeoutMs));
  return [
    'BEGIN',
    'SET LOCAL statement_timeout = 0',
    `SET LOCAL lock_timeout = ${lockWaitMs}`,
    `SELECT pg_advisory_xact_lock(${key.toString()})`,
    `SET LOCAL statement_timeout = ${statementTimeoutMs}`,
    '',
  ].join(';\n');
}

/** A LockTimeoutError (the code SQLite's write lock gives too) that says who holds the lock, from the server's own tables. */
export async function lockTimeoutError(client: pg.ClientBase, location: string, key: bigint, waitedMs: number): Promise<LockTimeoutError> {
  let holders: HolderInfo[] = [];
  let text = 'the holder could not be found (it may have just finished)';
  try {
    holders = await lockHolders(client, key);
    if (holders.length > 0) text = holders.map(describeHolder).join('; ');
  } catch (error) {
    text = `the holder could not be looked up: ${(error as Error).message}`;
  }
  return new LockTimeoutError(`${location} write lock (advisory lock ${key})`, 'exclusive', waitedMs, holders, text);
}

/** The sessions holding the store's advisory lock, from pg_locks and pg_stat_activity. */
export async function lockHolders(client: pg.ClientBase, key: bigint): Promise<HolderInfo[]> {
  const unsigned = BigInt.asUintN(64, key);
  const result = await client.query<{ backend: number; application_name: string; usename: string | null; client: string | null; since: Date | null }>(
    `SELECT a.pid AS backend, a.application_name, a.usename, host(a.client_addr) AS client, a.xact_start AS since
       FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
        AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND l.classid = $1::oid AND l.objid = $2::oid`,
    [(unsigned >> 32n).toString(), (unsigned & 0xffffffffn).toString()],
  );
  return result.rows.map((row) => {
    // memhub's own connections name themselves "memhub <pid>@<host>" (postgres-pool.ts).
    const own = /^memhub (\d+)@(.*)$/.exec(row.application_name);
    return {
      pid: own === null ? undefined : Number(own[1]),
      host: own?.[2] ?? row.client ?? undefined,
      user: row.usename ?? undefined,
      purpose: own === null ? `PostgreSQL backend ${row.backend} (${row.application_name || 'no application_name'})` : 'memhub write transaction',
      mode: 'exclusive',
      since: row.since?.toISOString(),
      alive: undefined,
      source: 'metadata',
    };
  });
}

function describeHolder(holder: HolderInfo): string {
  const who = holder.pid === undefined ? (holder.purpose ?? 'an unknown session') : `memhub process ${holder.pid} on ${holder.host ?? 'an unknown host'}`;
  return `held by ${who}${holder.user === undefined ? '' : `, user ${holder.user}`}${holder.since === undefined ? '' : `, in a transaction since ${holder.since}`}`;
}
