import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { kernelLockHolders, lockStatus } from '@memhub/lock';
import { StoreBusyError, type BusyHolder } from '../../errors.js';

/**
 * SQLite's busy handler sleeps inside the call, blocking the thread: with the 5 s busy_timeout
 * that memhub once gave every connection, a foreign program holding a write transaction froze
 * the event loop for 5 s before a raw SQLITE_BUSY came out. Each connection now gets this short
 * busy timeout, enough for the moments SQLite's own locks are taken briefly (a reader starting
 * while a checkpoint resets the WAL, a connection closing), and longer waits are retried
 * asynchronously (retryWhileBusy) up to the store's busyTimeoutMs.
 */
export const SQLITE_BUSY_SLICE_MS = 10;

/** Waits between asynchronous retries: from 2 ms, doubling, at most 50 ms, jittered. */
const RETRY_FIRST_MS = 2;
const RETRY_MAX_MS = 50;

/** Whether SQLite gave up waiting for one of its own locks (SQLITE_BUSY and its extended codes). */
export function isSqliteBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

/**
 * Runs `attempt`, and again after a pause each time it fails with SQLITE_BUSY, for up to
 * `timeoutMs` from the first failure; then throws StoreBusyError naming the holder when the
 * kernel tells. `attempt` must leave nothing behind when it fails (a write releases its flock and
 * its transaction is rolled back before the pause: nothing is held across the await).
 */
export async function retryWhileBusy<T>(
  attempt: () => T | Promise<T>,
  context: { readonly dir: string; readonly action: string; readonly timeoutMs: number },
): Promise<T> {
  let firstBusyAt: number | undefined;
  let pauseMs = RETRY_FIRST_MS;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (!isSqliteBusy(error)) throw error;
      const now = performance.now();
      firstBusyAt ??= now;
      const waited = now - firstBusyAt;
      if (waited >= context.timeoutMs) {
        throw new StoreBusyError(context.dir, context.action, waited + SQLITE_BUSY_SLICE_MS, sqliteLockHolder(context.dir), { cause: error });
      }
      await sleep(Math.min(context.timeoutMs - waited, pauseMs * (0.5 + Math.random())));
      pauseMs = Math.min(RETRY_MAX_MS, pauseMs * 2);
    }
  }
}

/**
 * In WAL mode SQLite's write lock is a POSIX lock on byte 120 of `memory.db-shm` (WAL_WRITE_LOCK,
 * at WALINDEX_LOCK_OFFSET), and the kernel lists it in /proc/locks with its owner's pid. Reading
 * that needs only stat(2) of the -shm file, no descriptor on it (DESIGN rule 1).
 */
const WAL_WRITE_LOCK_BYTE = 120;

/**
 * The process that holds SQLite's write lock on the store's database, else the holder of memhub's
 * write lock (a memhub process whose lock file was deleted under it), else undefined.
 */
export function sqliteLockHolder(dir: string): BusyHolder | undefined {
  const writers = (kernelLockHolders(`${dir}/memory.db-shm`) ?? []).filter(
    (lock) => lock.kind !== 'flock' && lock.mode === 'exclusive' && lock.start <= WAL_WRITE_LOCK_BYTE && lock.end >= WAL_WRITE_LOCK_BYTE,
  );
  const writer = writers.find((lock) => lock.pid !== process.pid) ?? writers[0];
  if (writer !== undefined) return withCommand({ pid: writer.pid });
  try {
    const holder = lockStatus(`${dir}/memory.db.lock`).holders.find((candidate) => candidate.pid !== undefined && candidate.pid !== process.pid);
    if (holder?.pid !== undefined) return withCommand({ pid: holder.pid, ...(holder.purpose === undefined ? {} : { purpose: holder.purpose }) });
  } catch {
    // No lock file to read: nothing more to tell.
  }
  return undefined;
}

function withCommand(holder: BusyHolder): BusyHolder {
  try {
    const command = readFileSync(`/proc/${holder.pid}/comm`, 'utf8').trim();
    return command === '' ? holder : { ...holder, command };
  } catch {
    return holder;
  }
}
