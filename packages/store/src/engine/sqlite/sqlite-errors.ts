import { LockError } from '@memhub/lock';
import { StoreAccessError, StoreCorruptError, StoreDiskFullError, StoreError, StoreIOError } from '../../errors.js';

/**
 * Turns what SQLite or the filesystem threw into a typed StoreError that says what happened to
 * the store and what to do, with the original as `cause`. memhub's own errors (and the lock's)
 * pass through unchanged; so do programming errors (a TypeError is a bug, not a store condition).
 */
export function storeErrorOf(error: unknown, location: string, action: string): unknown {
  if (error instanceof StoreError || error instanceof LockError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return error;
  const detail = (error as Error).message;
  // Never expected past the write lock; if one does arrive, it is reported as itself.
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return error;
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
