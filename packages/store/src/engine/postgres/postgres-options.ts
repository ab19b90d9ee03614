import { StoreValidationError } from '../../errors.js';

/** Where a PostgreSQL store lives and how memhub talks to it: openStore's `url` and its companions, checked. */
export interface ResolvedPostgresOptions {
  /** The connection URL as given, password included: it goes to the driver and nowhere else. */
  readonly url: string;
  /** The PostgreSQL schema that holds the store's tables. */
  readonly schema: string;
  /** The server, database, user and schema, without the password: for messages and stats(). */
  readonly location: string;
  /** `host:port`, for connection errors. */
  readonly host: string;
  readonly connectTimeoutMs: number;
  readonly statementTimeoutMs: number;
  readonly maxConnections: number;
}

export const DEFAULT_SCHEMA = 'memhub';
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
export const DEFAULT_STATEMENT_TIMEOUT_MS = 60_000;
export const DEFAULT_MAX_CONNECTIONS = 10;
const MAX_MAX_CONNECTIONS = 1_000;

/**
 * Lower-case letters, digits and `_`, starting with a letter or `_`, at most 63 bytes (PostgreSQL's
 * identifier length): a name that means the same quoted or not, so that a person typing it in
 * psql finds the same schema. `pg_` names are reserved by PostgreSQL for its own schemas.
 */
const SCHEMA_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;

/** The options of a store on PostgreSQL, as openStore was given them. */
export interface PostgresOptionValues {
  readonly url: unknown;
  readonly schema: unknown;
  readonly connectTimeoutMs: unknown;
  readonly statementTimeoutMs: unknown;
  readonly maxConnections: unknown;
}

/** Checks `url`, `schema` and the connection settings; every problem is a StoreValidationError naming the option. */
export function resolvePostgresOptions(given: PostgresOptionValues): ResolvedPostgresOptions {
  const { url, parsed } = parseUrl(given.url);
  const schema = given.schema ?? DEFAULT_SCHEMA;
  if (typeof schema !== 'string' || !SCHEMA_PATTERN.test(schema)) {
    throw new StoreValidationError(
      'schema',
      `expected a PostgreSQL identifier: lower-case letters, digits and _, not starting with a digit, at most 63 characters; got ${JSON.stringify(schema)}`,
    );
  }
  if (schema.startsWith('pg_') || schema === 'information_schema') {
    throw new StoreValidationError('schema', `"${schema}" is reserved by PostgreSQL for its own schemas`);
  }
  const maxConnections = given.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  if (typeof maxConnections !== 'number' || !Number.isInteger(maxConnections) || maxConnections < 1 || maxConnections > MAX_MAX_CONNECTIONS) {
    throw new StoreValidationError('maxConnections', `expected an integer from 1 to ${MAX_MAX_CONNECTIONS}, got ${String(maxConnections)}`);
  }
  const host = serverAddress(parsed);
  return Object.freeze({
    url,
    schema,
    location: `${parsed.protocol}//${parsed.username === '' ? '' : `${parsed.username}@`}${host}${parsed.pathname} (schema ${schema})`,
    host,
    connectTimeoutMs: milliseconds(given.connectTimeoutMs, DEFAULT_CONNECT_TIMEOUT_MS, 'connectTimeoutMs'),
    statementTimeoutMs: milliseconds(given.statementTimeoutMs, DEFAULT_STATEMENT_TIMEOUT_MS, 'statementTimeoutMs'),
    maxConnections,
  });
}

function parseUrl(url: unknown): { url: string; parsed: URL } {
  if (typeof url !== 'string' || url === '') throw new StoreValidationError('url', 'expected a postgres:// URL');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // The URL itself is not repeated: it may hold a password.
    throw new StoreValidationError('url', 'is not a valid URL (expected postgres://user:password@host:port/database)');
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new StoreValidationError('url', `expected the postgres: or postgresql: scheme, got ${parsed.protocol}`);
  }
  if (parsed.pathname.length <= 1 && !parsed.searchParams.has('dbname')) {
    throw new StoreValidationError('url', 'names no database (expected postgres://user@host:port/database)');
  }
  return { url, parsed };
}

/**
 * `host:port` as the driver will use it: the URL's host (or a `?host=` socket folder), port 5432
 * unless the URL says otherwise.
 */
function serverAddress(parsed: URL): string {
  const host = parsed.hostname === '' ? (parsed.searchParams.get('host') ?? 'localhost') : parsed.hostname;
  return `${host}:${parsed.port === '' ? '5432' : parsed.port}`;
}

/** A whole number of milliseconds that PostgreSQL's timeout settings accept (they are 32-bit). */
function milliseconds(value: unknown, fallback: number, field: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 2_147_483_647) {
    throw new StoreValidationError(field, `expected a whole number of milliseconds from 1 to 2147483647, got ${String(value)}`);
  }
  return value;
}
