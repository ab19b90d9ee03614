import { closeSync, openSync, statSync } from 'node:fs';
import { threadId } from 'node:worker_threads';
import type { LockModeName } from './errors.js';
import { FLOCK_EXCLUSIVE_NOWAIT, FLOCK_SHARED_NOWAIT, tryFlock, unflock } from './flock.js';
import {
  type HolderInfo,
  type HolderMetadata,
  isHolderAlive,
  processIdentity,
  readHolderMetadata,
} from './holder-metadata.js';
import { kernelFlockHolders } from './kernel-locks.js';

/** What `status()` reports about a lock file, read without waiting for it. */
export interface LockStatus {
  readonly path: string;
  readonly state: 'free' | 'shared' | 'exclusive';
  /** Who holds it now: empty when free. */
  readonly holders: readonly HolderInfo[];
  /** The record the most recent holder wrote, if any (it stays after a release). */
  readonly lastHolder: HolderInfo | undefined;
  /**
   * True when that record names a process of this host that no longer exists and that never closed
   * the lock: a holder that died (kill -9, a crash) or exited without closing it. Its lock is
   * already free, since the kernel drops a flock with its process; only the record is left, and the
   * next holder overwrites it. A holder that closed its lock marks its record released
   * (`lastHolder.releasedAt`), and its record is not stale.
   */
  readonly staleMetadata: boolean;
}

/** A hold by a call chain of this thread, as this thread's own registry knows it. */
export interface InThreadHold {
  readonly mode: LockModeName;
  readonly purpose: string;
  readonly since: number;
}

/**
 * Reads a lock's state. It does not wait and does not take the lock while anyone holds it: the
 * kernel's lock table (/proc/locks) names the holders. Only when that table shows no holder, or
 * cannot be read, is the state confirmed by a non-blocking probe on a separate descriptor, which
 * holds the free lock for the length of two system calls.
 */
export function readLockStatus(path: string, inThread: readonly InThreadHold[] = []): LockStatus {
  const fileStat = statSync(path, { throwIfNoEntry: false });
  if (fileStat === undefined) {
    return { path, state: 'free', holders: [], lastHolder: undefined, staleMetadata: false };
  }
  const metadata = readHolderMetadata(path);
  const kernel = kernelFlockHolders(fileStat.dev, fileStat.ino);
  let state: LockStatus['state'];
  if (kernel !== undefined && kernel.length > 0) {
    state = kernel.some((entry) => entry.mode === 'exclusive') ? 'exclusive' : 'shared';
  } else {
    state = probeLockState(path);
  }

  const lastHolder = metadata === undefined ? undefined : holderFromMetadata(metadata);
  const holders = state === 'free' ? [] : describeHolders(state, metadata, kernel, inThread);
  return { path, state, holders, lastHolder, staleMetadata: lastHolder?.alive === false && lastHolder.releasedAt === undefined };
}

function describeHolders(
  state: 'shared' | 'exclusive',
  metadata: HolderMetadata | undefined,
  kernel: readonly { pid: number; mode: LockModeName }[] | undefined,
  inThread: readonly InThreadHold[],
): HolderInfo[] {
  const holders: HolderInfo[] = [];
  const { host, user } = processIdentity();
  for (const hold of inThread) {
    holders.push({
      pid: process.pid,
      threadId,
      host,
      user,
      purpose: hold.purpose,
      mode: hold.mode,
      since: new Date(hold.since).toISOString(),
      alive: true,
      source: 'this-thread',
    });
  }
  if (kernel === undefined) {
    // No kernel table (not Linux): the record is the best account there is.
    if (inThread.length === 0 && metadata !== undefined) holders.push(holderFromMetadata(metadata));
    return holders;
  }
  const seen = new Set<string>();
  for (const entry of kernel) {
    const key = `${entry.pid}:${entry.mode}`;
    if (seen.has(key)) continue;
    seen.add(key);
    // This thread's own flock is listed by the kernel under this pid; it was reported above.
    if (entry.pid === process.pid && inThread.length > 0) continue;
    if (metadata !== undefined && metadata.pid === entry.pid && metadata.host === host) {
      holders.push({ ...holderFromMetadata(metadata), mode: entry.mode });
    } else {
      holders.push({ pid: entry.pid > 0 ? entry.pid : undefined, mode: entry.mode, alive: true, source: 'kernel' });
    }
  }
  if (holders.length === 0 && metadata !== undefined && metadata.mode === state) {
    // Held, yet the kernel lists no pid we can match (another pid namespace): trust the record.
    holders.push(holderFromMetadata(metadata));
  }
  return holders;
}

function holderFromMetadata(metadata: HolderMetadata): HolderInfo {
  return {
    pid: metadata.pid,
    threadId: metadata.threadId,
    host: metadata.host,
    user: metadata.user,
    purpose: metadata.purpose,
    mode: metadata.mode,
    since: metadata.since,
    alive: isHolderAlive(metadata.pid, metadata.host),
    ...(metadata.released === undefined ? {} : { releasedAt: metadata.released }),
    source: 'metadata',
  };
}

/** Free, shared or exclusive, by non-blocking attempts on a descriptor of its own. */
function probeLockState(path: string): LockStatus['state'] {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return 'free';
  }
  try {
    if (tryFlock(fd, FLOCK_EXCLUSIVE_NOWAIT)) {
      unflock(fd);
      return 'free';
    }
    if (tryFlock(fd, FLOCK_SHARED_NOWAIT)) {
      unflock(fd);
      return 'shared';
    }
    return 'exclusive';
  } finally {
    closeSync(fd);
  }
}
