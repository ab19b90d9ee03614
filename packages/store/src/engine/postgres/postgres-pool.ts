import { hostname } from 'node:os';
import pg from 'pg';
import type { StoreLogger } from '../../store-logger.js';
import type { ResolvedPostgresOptions } from './postgres-options.js';

const INT8_OID = 20;

/**
 * `bigint` (seq, counts) arrives as a number rather than pg's default string: every value memhub
 * writes is a safe integer, and one that is not is refused rather than rounded.
 */
const typeParsers: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === INT8_OID && format !== 'binary') return parseSafeInteger;
    return pg.types.getTypeParser(oid, format);
  }) as pg.CustomTypesConfig['getTypeParser'],
};

function parseSafeInteger(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new RangeError(`bigint ${text} is beyond the integers JavaScript holds exactly`);
  return value;
}

/**
 * The name every connection gives the server (`application_name`, at most 63 bytes): memhub, the
 * process id and the host. pg_stat_activity then says which process on which host holds the
 * store's write lock, and a LockTimeoutError can name it.
 */
export function applicationName(): string {
  return `memhub ${process.pid}@${hostname()}`.slice(0, 63);
}

/**
 * The connection pool of one store object. Every connection starts with the store's timeouts set
 * on the server: `statement_timeout` (no statement runs longer), `lock_timeout` (no lock is
 * waited for longer; the write lock's wait is set per transaction, see postgres-write-lock.ts),
 * and `idle_in_transaction_session_timeout`, so that a client frozen inside a transaction (not
 * dead: a dead one's connection closes and the server rolls back at once) cannot keep the write
 * lock from everyone for ever. Idle connections do not keep the process alive, as a SQLite store
 * keeps nothing alive either.
 */
export function createPool(options: ResolvedPostgresOptions, lockTimeoutMs: number, logger: StoreLogger): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.maxConnections,
    connectionTimeoutMillis: options.connectTimeoutMs,
    idleTimeoutMillis: 10_000,
    allowExitOnIdle: true,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    statement_timeout: options.statementTimeoutMs,
    lock_timeout: Math.min(2_147_483_647, Math.ceil(lockTimeoutMs)),
    idle_in_transaction_session_timeout: Math.max(options.statementTimeoutMs, 10_000),
    application_name: applicationName(),
    types: typeParsers,
  });
  // An idle connection that the server closes (a restart, an administrator) is reported here; without a
  // listener the pool's 'error' event would end the process. The pool drops that connection and opens another.
  pool.on('error', (error) => {
    logger.warn({ host: options.host, error: error.message }, 'memhub: an idle PostgreSQL connection was closed; a new one will be opened');
  });
  return pool;
}
