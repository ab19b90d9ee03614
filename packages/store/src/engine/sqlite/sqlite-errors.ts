import { LockError, LockSystemError } from '@memhub/lock';
import { StoreAccessError, StoreBusyError, StoreCorruptError, StoreDiskFullError, StoreError, StoreIOError } from '../../errors.js';
import { sqliteLockHolder, SQLITE_BUSY_SLICE_MS } from './sqlite-busy.js';

/**
 * Turns what SQLite or the filesystem threw into a typed StoreError that says what happened to
 * the store and what to do, with the original as `cause`. memhub's own errors (and the lock's)
 * pass through unchanged; so do programming errors (a TypeError is a bug, not a store condition).
 */
export function storeErrorOf(error: unknown, location: string, action: string): unknown {
  if (error instanceof StoreError) return error;
  if (error instanceof LockSystemError) {
    // A lock file that cannot be opened or created is the store's folder refusing this process.
    const cause = (error.cause as { code?: unknown } | undefined)?.code;
    if (cause === 'EROFS') return new StoreAccessError(`Cannot ${action}: ${location} is read-only (${error.message})`, { cause: error });
    if (cause === 'EACCES' || cause === 'EPERM') {
      return new StoreAccessError(`Cannot ${action}: this process may not open or create the files in ${location} (${error.message})`, { cause: error });
    }
  }
  if (error instanceof LockError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return error;
  const detail = (error as Error).message;
  // Writes and reads retry SQLITE_BUSY for up to busyTimeoutMs before they get here (sqlite-busy.ts);
  // one that was not retried still reaches its caller typed, never raw.
  if (code.startsWith('SQLITE_BUSY')) return new StoreBusyError(location, action, SQLITE_BUSY_SLICE_MS, sqliteLockHolder(location), { cause: error });
  // A conflict inside one connection: a bug, reported as itself.
  if (code.startsWith('SQLITE_LOCKED')) return error;
  if (code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT' || code === 'EFBIG') {
    return new StoreDiskFullError(location, { cause: error });
  }
  if (code.startsWith('SQLITE_READONLY') || code === 'EROFS') {
    return new StoreAccessError(`Cannot ${action}: ${location} is read-only (${detail})`, { cause: error });
  }
  if (code === 'EACCES' || code === 'EPERM' || code.startsWith('SQLITE_PERM') || code.startsWith('SQLITE_AUTH') || code.startsWith('SQLITE_CANTOPEN')) {
    return new StoreAccessError(`Cannot ${action}: this process may not open or write the files in ${location} (${detail})`, { cause: error });
  }
  if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) {
    return new StoreCorruptError(
      `Cannot ${action}: ${location}/memory.db is not a database or is damaged (${detail}). ` +
        'verify() tells more; rebuildFromMirror() recreates it from the layer mirrors.',
      { cause: error },
    );
  }
  if (code.startsWith('SQLITE_') || /^E[A-Z]+$/.test(code)) {
    return new StoreIOError(`Cannot ${action} in ${location}: ${detail} (${code})`, { cause: error });
  }
  return error;
}
