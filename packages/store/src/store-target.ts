import { isAbsolute, resolve } from 'node:path';
import { resolvePostgresOptions, type ResolvedPostgresOptions } from './engine/postgres/postgres-options.js';
import { StoreValidationError } from './errors.js';

/**
 * Where a store lives: a folder (`dir`, the embedded SQLite engine) or a PostgreSQL server
 * (`url`), never both. Exactly one of the two is set.
 */
export type StoreTarget =
  | { readonly dir: string; readonly postgres: undefined }
  | { readonly dir: undefined; readonly postgres: ResolvedPostgresOptions };

/** Options that only mean something to one engine: given to the other, they are refused, not ignored. */
const SQLITE_ONLY_OPTIONS = ['durability', 'busyTimeoutMs', 'lockStarvationMs', 'allowUnsafeFilesystem', 'walCheckpointBytes', 'mirror'] as const;
const POSTGRES_ONLY_OPTIONS = ['schema', 'connectTimeoutMs', 'statementTimeoutMs', 'maxConnections'] as const;

/** Checks `dir` or `url` (exactly one) and the options that belong to that engine alone. */
export function resolveStoreTarget(given: Readonly<Record<string, unknown>>): StoreTarget {
  const { dir, url } = given;
  if (dir !== undefined && url !== undefined) {
    throw new StoreValidationError('url', 'cannot be given with dir: a store lives in a folder (dir) or on a PostgreSQL server (url)');
  }
  if (url !== undefined) {
    for (const name of SQLITE_ONLY_OPTIONS) {
      if (given[name] !== undefined) throw new StoreValidationError(name, 'applies to a SQLite store (dir), not to one on PostgreSQL (url)');
    }
    return {
      dir: undefined,
      postgres: resolvePostgresOptions({
        url,
        schema: given['schema'],
        connectTimeoutMs: given['connectTimeoutMs'],
        statementTimeoutMs: given['statementTimeoutMs'],
        maxConnections: given['maxConnections'],
      }),
    };
  }
  if (typeof dir !== 'string' || dir === '') {
    throw new StoreValidationError('dir', 'expected a non-empty path (or url, for a store on PostgreSQL)');
  }
  if (dir.includes('\0')) throw new StoreValidationError('dir', 'contains a NUL character');
  for (const name of POSTGRES_ONLY_OPTIONS) {
    if (given[name] !== undefined) throw new StoreValidationError(name, 'applies to a store on PostgreSQL (url), not to a SQLite store (dir)');
  }
  return { dir: isAbsolute(dir) ? dir : resolve(dir), postgres: undefined };
}
