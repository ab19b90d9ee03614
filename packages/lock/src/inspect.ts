import { isAbsolute } from 'node:path';
import { LockArgumentError } from './errors.js';
import { resolveLockPath } from './file-lock.js';
import { LockFile } from './lock-file.js';
import type { LockMetricsSnapshot } from './lock-metrics.js';
import { readLockStatus, type LockStatus } from './lock-status.js';

/**
 * Free, shared or exclusive, and who holds the lock file at `path`, without waiting for it and
 * without creating it: a missing file is a free lock. Holds of this thread are included with
 * their purpose; holders whose process died are not listed (their flock died with them), and a
 * record they left is reported as `staleMetadata`.
 *
 * ```ts
 * const { state, holders, staleMetadata } = lockStatus('/srv/memory/memory.db.lock');
 * ```
 */
export function lockStatus(path: string): LockStatus {
  if (typeof path !== 'string' || path === '') throw new LockArgumentError('path', 'expected a non-empty string');
  if (!isAbsolute(path)) throw new LockArgumentError('path', `"${path}" is relative; pass an absolute path`);
  const realPath = resolveLockPath(path);
  for (const file of LockFile.all()) {
    if (file.realPath === realPath) return file.status();
  }
  return readLockStatus(realPath);
}

/** Metrics of every lock file this thread has open. */
export function lockMetrics(): LockMetricsSnapshot[] {
  return [...LockFile.all()].map((file) => file.metrics.snapshot(file.realPath));
}
