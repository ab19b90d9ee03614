import { closeSync, constants, fstatSync, openSync, statSync, watch, type FSWatcher, type Stats } from 'node:fs';
import { Backoff, sleepSync } from './backoff.js';
import {
  LockAbortedError,
  LockDeadlockError,
  LockSystemError,
  LockTimeoutError,
  type LockModeName,
} from './errors.js';
import { FLOCK_EXCLUSIVE_NOWAIT, FLOCK_SHARED_NOWAIT, tryFlock, unflock } from './flock.js';
import {
  currentHolderMetadata,
  type HolderMetadata,
  describeHolders,
  encodeHolderMetadata,
  writeHolderMetadata,
} from './holder-metadata.js';
import { LockMetrics } from './lock-metrics.js';
import { type InThreadHold, readLockStatus, type LockStatus } from './lock-status.js';
import {
  WAITER_MARKER_FRESH_MS,
  clearWaiterMarker,
  isLiveOtherWaiter,
  readWaiterMarker,
  wakeWaiters,
  writeWaiterMarker,
  type WaiterMarker,
} from './waiter-marker.js';

/** One hold granted by a LockFile; the handle that wraps it releases it. */
export interface Grant {
  readonly mode: LockModeName;
  readonly purpose: string;
  /** Epoch milliseconds. */
  readonly since: number;
  /** performance.now() at the grant, for the hold-time metric. */
  readonly grantedAt: number;
}

interface Waiter {
  readonly mode: LockModeName;
  readonly purpose: string;
  readonly owner: object;
  /** performance.now() at the request, for timeouts and the wait metric. */
  readonly requestedAt: number;
  /** Epoch ms of the request, for the waiter's note: how long it has waited, as other processes see it. */
  readonly requestedSince: number;
  readonly timeoutMs: number;
  readonly starvationMs: number;
  readonly backoff: Backoff;
  readonly resolve: (grant: Grant) => void;
  readonly reject: (error: Error) => void;
  readonly signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  pollTimer: NodeJS.Timeout | undefined;
  timeoutTimer: NodeJS.Timeout | undefined;
}

export interface AcquireRequest {
  readonly mode: LockModeName;
  readonly purpose: string;
  readonly timeoutMs: number;
  readonly signal: AbortSignal | undefined;
  /** The FileLock asking, so that closing it can cancel its own waiters only. */
  readonly owner: object;
  /** Stays off a free lock while a waiter of another thread has waited this much longer (see DEFAULT_STARVATION_MS). */
  readonly starvationMs: number;
}

/**
 * Holds after which a new hold by the same thread counts as a new one (and its metadata is
 * rewritten with a new `since`) rather than as the continuation of the same busy period.
 */
const CONTINUOUS_HOLD_GAP_MS = 50;
/** How many times in a row the lock file may be found replaced under us before giving up. */
const MAX_REPLACEMENTS = 8;
/**
 * Fairness between processes: a thread that finds the lock free still stays off it when the
 * waiter's note (waiter-marker.ts) names another thread that has waited this much longer than
 * its own request. A thread taking the lock back to back keeps it for at most about this long
 * while someone waits, and among many waiters the longest-waiting one goes next. Below it, the
 * thread at hand may take the lock first: a waiter that was woken but has no CPU yet (4 busy
 * processes on 2 cores) does not leave the lock idle. 20 ms measured best of 5, 20 and 50 in
 * `pnpm bench:store`: 5 ms lost about a tenth of the throughput to idle hand-offs, 50 ms doubled
 * the slowest call of 8 processes.
 */
export const DEFAULT_STARVATION_MS = 20;
/** The largest starvation threshold a lock takes: a minute of waiting behind others is unfairness enough. */
export const MAX_STARVATION_MS = 60_000;
/** Holds shorter than this do not look for waiters to wake at release: any new waiter polls again sooner. */
const WAKE_CHECK_AFTER_HOLD_MS = 1;

interface PublishedMetadata {
  readonly mode: LockModeName;
  readonly purpose: string;
  /** The record as written, to mark it released at close. */
  readonly metadata: HolderMetadata;
  readonly ino: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
}

/** The lock files this thread has open, by real path: one descriptor each, whatever the number of FileLocks. */
const openLockFiles = new Map<string, LockFile>();

/**
 * This thread's one open file description of a lock file, and the FIFO queue in front of it.
 *
 * flock(2) belongs to an open file description, so two callers of one thread sharing a
 * descriptor would both "hold" the lock. The kernel therefore sees one holder per thread
 * (each worker thread has its own module instance, so its own LockFile and descriptor), and
 * this class decides which of the thread's callers hold it: one exclusive holder, or any
 * number of shared ones, granted in arrival order.
 */
export class LockFile {
  readonly realPath: string;
  readonly metrics = new LockMetrics();
  #fd = -1;
  #dev = 0;
  #ino = 0;
  #writable = false;
  #references = 0;
  #heldMode: LockModeName | null = null;
  readonly #grants = new Set<Grant>();
  readonly #queue: Waiter[] = [];
  #published: PublishedMetadata | undefined;
  #lastReleasedAt = Number.NEGATIVE_INFINITY;
  /** When this thread last wrote its waiter's note, in the current wait (-Infinity: not in this wait). */
  #announcedAt = Number.NEGATIVE_INFINITY;
  /** The waiter's note as last read, and the file state it was read at: re-read only when the file changed. */
  #markerSeen: { ino: number; mtimeMs: number; ctimeMs: number; marker: WaiterMarker | undefined } | undefined;
  /** Whether a waiter elsewhere was seen when the current hold was granted: wake it at release. */
  #waiterSeenAtGrant = false;
  /** While this thread waits, a watch on the lock file, so that a release elsewhere wakes it. */
  #watcher: FSWatcher | undefined;

  private constructor(realPath: string) {
    this.realPath = realPath;
    this.#openDescriptor();
  }

  /** The thread's LockFile for this real path, opened on first use; each attach needs a detach. */
  static attach(realPath: string): LockFile {
    let file = openLockFiles.get(realPath);
    if (file === undefined) {
      file = new LockFile(realPath);
      openLockFiles.set(realPath, file);
    }
    file.#references += 1;
    return file;
  }

  /** Every lock file this thread has open, for metrics. */
  static all(): Iterable<LockFile> {
    return openLockFiles.values();
  }

  /** Drops one reference; the descriptor closes when none is left and nothing is held. */
  detach(): void {
    this.#references -= 1;
    this.#closeIfUnused();
  }

  /** Grants at once if possible, without waiting and without passing queued callers; else undefined. */
  tryAcquire(mode: LockModeName, purpose: string, yieldToStarved = false, starvationMs = DEFAULT_STARVATION_MS): Grant | undefined {
    if (this.#queue.length > 0) return undefined;
    const startedAt = performance.now();
    // A caller that will not wait is not made to step aside, unless it asks to be: one that has
    // another way to go on (memhub's writers hand their batch to the holder instead) yields to a
    // waiter of another process that has waited past the starvation threshold, as a waiter would.
    const grant = this.#tryGrant(mode, purpose, yieldToStarved ? Date.now() : undefined, starvationMs);
    if (grant !== undefined) this.metrics.recordWait(grant.grantedAt - startedAt);
    return grant;
  }

  /** Waits for the lock with non-blocking attempts and timers: the event loop is never blocked. */
  acquire(request: AcquireRequest): Promise<Grant> {
    const requestedAt = performance.now();
    const requestedSince = Date.now();
    const willWait = request.timeoutMs > 0;
    if (request.signal?.aborted === true) {
      this.metrics.aborts += 1;
      return Promise.reject(new LockAbortedError(this.realPath, request.signal.reason));
    }
    if (this.#queue.length === 0) {
      try {
        const grant = this.#tryGrant(request.mode, request.purpose, willWait ? requestedSince : undefined, request.starvationMs);
        if (grant !== undefined) {
          this.metrics.recordWait(grant.grantedAt - requestedAt);
          return Promise.resolve(grant);
        }
      } catch (error) {
        return Promise.reject(error);
      }
      if (willWait) this.#noteWaiting(requestedSince);
    }
    if (request.timeoutMs === 0) {
      this.metrics.timeouts += 1;
      return Promise.reject(this.#timeoutError(request.mode, 0));
    }
    return new Promise<Grant>((resolve, reject) => {
      const waiter: Waiter = {
        mode: request.mode,
        purpose: request.purpose,
        owner: request.owner,
        requestedAt,
        requestedSince,
        timeoutMs: request.timeoutMs,
        starvationMs: request.starvationMs,
        backoff: new Backoff(),
        resolve,
        reject,
        signal: request.signal,
        onAbort: undefined,
        pollTimer: undefined,
        timeoutTimer: undefined,
      };
      if (Number.isFinite(request.timeoutMs)) {
        waiter.timeoutTimer = setTimeout(() => this.#expire(waiter), request.timeoutMs);
      }
      if (request.signal !== undefined) {
        const signal = request.signal;
        waiter.onAbort = () => {
          this.metrics.aborts += 1;
          this.#removeWaiter(waiter, new LockAbortedError(this.realPath, signal.reason));
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.#queue.push(waiter);
      if (this.#queue.length === 1 && this.#heldMode === null) this.#schedulePoll(waiter);
    });
  }

  /**
   * Waits by blocking this thread between non-blocking attempts. When another call chain of this
   * thread holds the lock, waiting could never end, so it throws LockDeadlockError at once.
   */
  acquireSync(mode: LockModeName, purpose: string, timeoutMs: number, starvationMs = DEFAULT_STARVATION_MS): Grant {
    const requestedAt = performance.now();
    const requestedSince = Date.now();
    const willWait = timeoutMs > 0;
    let backoff: Backoff | undefined;
    let waited = false;
    for (;;) {
      if (this.#heldMode !== null && !(this.#heldMode === 'shared' && mode === 'shared')) {
        throw new LockDeadlockError(
          this.realPath,
          describeHolders(this.status().holders.filter((holder) => holder.source === 'this-thread')),
        );
      }
      const grant = this.#tryGrant(mode, purpose, willWait ? requestedSince : undefined, starvationMs);
      if (grant !== undefined) {
        if (waited) this.metrics.contended += 1;
        this.metrics.recordWait(grant.grantedAt - requestedAt);
        return grant;
      }
      waited = true;
      if (willWait) this.#noteWaiting(requestedSince);
      const remaining = timeoutMs - (performance.now() - requestedAt);
      if (remaining <= 0) {
        this.metrics.timeouts += 1;
        this.#endWait();
        throw this.#timeoutError(mode, performance.now() - requestedAt);
      }
      backoff ??= new Backoff();
      sleepSync(backoff.next(remaining));
    }
  }

  /** Ends a hold; the last one out drops the flock and lets the queue move. Idempotent. */
  release(grant: Grant): void {
    if (!this.#grants.delete(grant)) return;
    const heldMs = performance.now() - grant.grantedAt;
    this.metrics.recordHold(heldMs);
    if (this.#grants.size > 0) return;
    this.#heldMode = null;
    this.#lastReleasedAt = Date.now();
    this.#unlockDescriptor();
    this.#wakeWaitersElsewhere(heldMs);
    if (this.#closeIfUnused()) return;
    this.#pump();
  }

  /**
   * For a holder: whether its flock still covers the file at the path. Someone may have deleted or
   * replaced the lock file while it was held (a common reflex with a "stale" `.lock`); whoever
   * opens the path then locks another inode and gets in beside this holder. When the file at the
   * path is another one, this takes it too, without waiting, and moves the descriptor to it (the
   * old inode's flock is dropped: nobody can reach that file by its path any more, and a thread
   * that still waits on it moves to the path as soon as it gets it). Returns false when another
   * descriptor holds the file at the path already: two holders are in, and the caller must not
   * act as the only one.
   */
  confirmHeld(): boolean {
    const mode = this.#heldMode;
    if (mode === null || this.#fd < 0) return false;
    const atPath = statSync(this.realPath, { throwIfNoEntry: false });
    if (atPath !== undefined && atPath.ino === this.#ino && atPath.dev === this.#dev) return true;
    const previous = { fd: this.#fd, dev: this.#dev, ino: this.#ino, writable: this.#writable };
    try {
      this.#openDescriptor();
    } catch {
      this.#restoreDescriptor(previous);
      return false;
    }
    const operation = mode === 'exclusive' ? FLOCK_EXCLUSIVE_NOWAIT : FLOCK_SHARED_NOWAIT;
    let locked = false;
    try {
      locked = tryFlock(this.#fd, operation);
      const now = statSync(this.realPath, { throwIfNoEntry: false });
      locked &&= now !== undefined && now.ino === this.#ino && now.dev === this.#dev;
    } catch {
      locked = false;
    }
    if (!locked) {
      this.#discardDescriptor();
      this.#restoreDescriptor(previous);
      return false;
    }
    this.metrics.replacedWhileHeld += 1;
    try {
      closeSync(previous.fd);
    } catch {
      // Already closed: its flock is gone either way.
    }
    const grant = [...this.#grants][0];
    if (grant !== undefined) this.#publishMetadata(mode, grant.purpose, fstatSync(this.#fd), Date.now());
    return true;
  }

  #restoreDescriptor(previous: { fd: number; dev: number; ino: number; writable: boolean }): void {
    this.#fd = previous.fd;
    this.#dev = previous.dev;
    this.#ino = previous.ino;
    this.#writable = previous.writable;
    this.#published = undefined;
  }

  /** Rejects the waiters that `owner` queued (its FileLock is closing). */
  cancelWaiters(owner: object, error: Error): void {
    for (const waiter of [...this.#queue]) {
      if (waiter.owner === owner) this.#removeWaiter(waiter, error);
    }
  }

  status(): LockStatus {
    const inThread: InThreadHold[] = [...this.#grants].map(({ mode, purpose, since }) => ({ mode, purpose, since }));
    return readLockStatus(this.realPath, inThread);
  }

  /**
   * One attempt. `requestedSince` (epoch ms) is when the caller asked, for a caller that waits:
   * it stays off a free lock while another thread has waited the starvation threshold longer. A caller
   * that will not wait passes undefined and is never made to step aside.
   */
  #tryGrant(mode: LockModeName, purpose: string, requestedSince: number | undefined, starvationMs: number): Grant | undefined {
    const now = Date.now();
    if (this.#heldMode === null) {
      const atPath = this.#lockDescriptor(mode);
      if (atPath === undefined) return undefined;
      const waiter = this.#waiterElsewhere(atPath);
      if (requestedSince !== undefined && waiter !== undefined && waiter.since < requestedSince - starvationMs) {
        this.#unlockDescriptor();
        return undefined;
      }
      this.#waiterSeenAtGrant = waiter !== undefined;
      this.#publishMetadata(mode, purpose, atPath, now);
      this.#endWait();
      this.#heldMode = mode;
    } else if (!(this.#heldMode === 'shared' && mode === 'shared')) {
      return undefined;
    }
    const grant: Grant = { mode, purpose, since: now, grantedAt: performance.now() };
    this.#grants.add(grant);
    this.metrics.acquisitions += 1;
    return grant;
  }

  /**
   * One non-blocking flock attempt, then the check that the descriptor is still the file at the
   * path: if the file was deleted or replaced, a lock on the old inode excludes nobody who opens
   * the path now, so the descriptor moves to the file at the path and tries again. Returns the
   * file's stat when locked, undefined when another descriptor holds it.
   */
  #lockDescriptor(mode: LockModeName): Stats | undefined {
    const operation = mode === 'exclusive' ? FLOCK_EXCLUSIVE_NOWAIT : FLOCK_SHARED_NOWAIT;
    for (let replacements = 0; ; replacements += 1) {
      if (this.#fd < 0) this.#openDescriptor();
      let locked: boolean;
      try {
        locked = tryFlock(this.#fd, operation);
      } catch (error) {
        throw new LockSystemError(this.realPath, 'flock', error);
      }
      if (!locked) return undefined;
      const atPath = statSync(this.realPath, { throwIfNoEntry: false });
      if (atPath !== undefined && atPath.ino === this.#ino && atPath.dev === this.#dev) return atPath;
      this.#discardDescriptor();
      if (replacements >= MAX_REPLACEMENTS) {
        throw new LockSystemError(
          this.realPath,
          'open',
          new Error('the lock file keeps being deleted or replaced by another program'),
        );
      }
    }
  }

  /**
   * Writes this holder's record into the lock file, unless the record there is already this
   * thread's, for the same mode and purpose, written in the current busy period (holds less than
   * CONTINUOUS_HOLD_GAP_MS apart). The identity check's stat tells whether anyone wrote since, so
   * the common case of one thread taking the lock over and over costs no write. The record is a
   * courtesy to people and error messages: failing to write it (a full disk) does not fail the lock.
   */
  #publishMetadata(mode: LockModeName, purpose: string, atPath: Stats, now: number): void {
    if (!this.#writable) return;
    const published = this.#published;
    if (
      published !== undefined &&
      published.mode === mode &&
      published.purpose === purpose &&
      published.ino === atPath.ino &&
      published.mtimeMs === atPath.mtimeMs &&
      published.ctimeMs === atPath.ctimeMs &&
      now - this.#lastReleasedAt < CONTINUOUS_HOLD_GAP_MS
    ) {
      return;
    }
    try {
      const metadata = currentHolderMetadata(purpose, mode, new Date(now));
      writeHolderMetadata(this.#fd, encodeHolderMetadata(metadata));
      const after = fstatSync(this.#fd);
      this.#published = { mode, purpose, metadata, ino: after.ino, mtimeMs: after.mtimeMs, ctimeMs: after.ctimeMs };
    } catch {
      this.#published = undefined;
    }
  }

  /**
   * The live note of a waiter in another thread, if any. The note is re-read only when the lock
   * file changed since it was last read (the identity check's stat tells), so a thread taking an
   * uncontended lock over and over reads nothing.
   */
  #waiterElsewhere(atPath: Stats): WaiterMarker | undefined {
    const seen = this.#markerSeen;
    let marker: WaiterMarker | undefined;
    if (seen !== undefined && seen.ino === atPath.ino && seen.mtimeMs === atPath.mtimeMs && seen.ctimeMs === atPath.ctimeMs) {
      marker = seen.marker;
    } else {
      marker = readWaiterMarker(this.#fd);
      this.#markerSeen = { ino: atPath.ino, mtimeMs: atPath.mtimeMs, ctimeMs: atPath.ctimeMs, marker };
    }
    return isLiveOtherWaiter(marker, Date.now()) ? marker : undefined;
  }

  /**
   * After a failed attempt of a caller waiting since `since` (epoch ms): if the lock is held
   * elsewhere, note this thread as the longest waiter, unless another thread that has waited at
   * least as long is noted already. Its own note is refreshed at half the freshness period.
   */
  #noteWaiting(since: number): void {
    if (this.#heldMode !== null || this.#fd < 0 || !this.#writable) return;
    const now = Date.now();
    if (now - this.#announcedAt < WAITER_MARKER_FRESH_MS / 2) return;
    const marker = readWaiterMarker(this.#fd);
    if (isLiveOtherWaiter(marker, now) && marker.since <= since) return;
    writeWaiterMarker(this.#fd, since, now);
    this.#announcedAt = now;
  }

  /** The wait of this thread is over (granted, or nobody waits any more): its note goes. */
  #endWait(): void {
    if (this.#announcedAt === Number.NEGATIVE_INFINITY) return;
    this.#announcedAt = Number.NEGATIVE_INFINITY;
    if (this.#fd >= 0 && readWaiterMarker(this.#fd)?.own === true) clearWaiterMarker(this.#fd);
  }

  /**
   * Right after a release: a waiter in another process may be far into its backoff, so if one was
   * seen when this hold began, or the hold was long enough for one to have started waiting, touch
   * the file to wake the waiters that watch it.
   */
  #wakeWaitersElsewhere(heldMs: number): void {
    if (this.#fd < 0 || !this.#writable) return;
    if (this.#waiterSeenAtGrant || (heldMs >= WAKE_CHECK_AFTER_HOLD_MS && isLiveOtherWaiter(readWaiterMarker(this.#fd), Date.now()))) {
      wakeWaiters(this.#fd);
    }
  }

  #unlockDescriptor(): void {
    try {
      unflock(this.#fd);
    } catch {
      // Closing the descriptor drops its flock for certain; a fresh one is opened on next use.
      this.#discardDescriptor();
    }
  }

  /**
   * Grants queued waiters in order for as long as the head can be granted. Never throws.
   * `woken`: called because the lock file changed (a release elsewhere), not by a poll.
   */
  #pump(woken = false): void {
    while (this.#queue.length > 0) {
      const head = this.#queue[0] as Waiter;
      let grant: Grant | undefined;
      try {
        grant = this.#tryGrant(head.mode, head.purpose, head.requestedSince, head.starvationMs);
      } catch (error) {
        this.#forget(head);
        head.reject(error as Error);
        continue;
      }
      if (grant === undefined) {
        // Held by another process (nothing in this thread holds it): poll. Otherwise the
        // release of this thread's holders pumps again.
        if (this.#heldMode === null) {
          this.#noteWaiting(head.requestedSince);
          this.#schedulePoll(head);
        }
        return;
      }
      this.#forget(head);
      this.metrics.contended += 1;
      if (woken) this.metrics.wokenByRelease += 1;
      this.metrics.recordWait(grant.grantedAt - head.requestedAt);
      head.resolve(grant);
    }
  }

  #schedulePoll(waiter: Waiter): void {
    this.#watchForRelease();
    if (waiter.pollTimer !== undefined) return;
    const remaining = waiter.timeoutMs - (performance.now() - waiter.requestedAt);
    waiter.pollTimer = setTimeout(() => {
      waiter.pollTimer = undefined;
      this.#pump();
    }, waiter.backoff.next(remaining));
  }

  #expire(waiter: Waiter): void {
    if (!this.#queue.includes(waiter)) return;
    this.metrics.timeouts += 1;
    let error: Error;
    try {
      error = this.#timeoutError(waiter.mode, performance.now() - waiter.requestedAt);
    } catch (describeFailure) {
      error = new LockSystemError(this.realPath, 'status', describeFailure);
    }
    this.#removeWaiter(waiter, error);
  }

  #removeWaiter(waiter: Waiter, error: Error): void {
    const index = this.#queue.indexOf(waiter);
    if (index < 0) return;
    this.#forget(waiter);
    waiter.reject(error);
    if (index === 0) this.#pump();
    this.#closeIfUnused();
  }

  /** Watches the lock file while this thread waits (inotify through fs.watch; polls go on regardless). */
  #watchForRelease(): void {
    if (this.#watcher !== undefined) return;
    try {
      this.#watcher = watch(this.realPath, { persistent: false }, () => this.#onLockFileChanged());
      this.#watcher.on('error', () => this.#stopWatching());
    } catch {
      this.#watcher = undefined;
    }
  }

  #onLockFileChanged(): void {
    const head = this.#queue[0];
    if (head === undefined || this.#heldMode !== null) return;
    if (head.pollTimer !== undefined) clearTimeout(head.pollTimer);
    head.pollTimer = undefined;
    this.#pump(true);
  }

  #stopWatching(): void {
    this.#watcher?.close();
    this.#watcher = undefined;
  }

  /** Takes a waiter out of the queue and stops its timers and abort listener. */
  #forget(waiter: Waiter): void {
    const index = this.#queue.indexOf(waiter);
    if (index >= 0) this.#queue.splice(index, 1);
    if (this.#queue.length === 0) {
      this.#stopWatching();
      if (this.#heldMode === null) this.#endWait();
    }
    if (waiter.pollTimer !== undefined) clearTimeout(waiter.pollTimer);
    if (waiter.timeoutTimer !== undefined) clearTimeout(waiter.timeoutTimer);
    if (waiter.onAbort !== undefined) waiter.signal?.removeEventListener('abort', waiter.onAbort);
    waiter.pollTimer = undefined;
    waiter.timeoutTimer = undefined;
  }

  #timeoutError(mode: LockModeName, waitedMs: number): LockTimeoutError {
    const holders = this.status().holders;
    return new LockTimeoutError(this.realPath, mode, waitedMs, holders, describeHolders(holders));
  }

  #openDescriptor(): void {
    let fd: number;
    let writable = true;
    try {
      fd = openSync(this.realPath, constants.O_RDWR | constants.O_CREAT, 0o644);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EACCES' && code !== 'EPERM' && code !== 'EROFS') throw new LockSystemError(this.realPath, 'open', error);
      // Read-only access still allows flock (shared or exclusive); only the metadata is skipped.
      try {
        fd = openSync(this.realPath, constants.O_RDONLY);
      } catch (readError) {
        // A file that does not exist could not be created: that first error says why (EROFS, EACCES).
        throw new LockSystemError(this.realPath, 'open', (readError as NodeJS.ErrnoException).code === 'ENOENT' ? error : readError);
      }
      writable = false;
    }
    try {
      const stat = fstatSync(fd);
      this.#dev = stat.dev;
      this.#ino = stat.ino;
    } catch (error) {
      closeSync(fd);
      throw new LockSystemError(this.realPath, 'fstat', error);
    }
    this.#fd = fd;
    this.#writable = writable;
    this.#published = undefined;
  }

  #discardDescriptor(): void {
    if (this.#fd < 0) return;
    try {
      closeSync(this.#fd);
    } catch {
      // Already closed: nothing is held through it either way.
    }
    this.#fd = -1;
  }

  /**
   * At close, marks this thread's record in the lock file released, if it is still the record there,
   * so that `status()` tells a clean end from a holder that died. Written under a non-blocking
   * exclusive flock taken for the two system calls: a record is only ever written by its lock's
   * holder, so a holder that came meanwhile is never overwritten (then this is skipped: its own
   * record is there). A courtesy, like the record itself: any failure is ignored.
   */
  #markRecordReleased(): void {
    const published = this.#published;
    if (!this.#writable || published === undefined || this.#fd < 0) return;
    // A waiter elsewhere is about to take the lock and write its own record: nothing to mark, and
    // taking the lock now, even for two system calls, could make it miss the turn it was woken for.
    if (isLiveOtherWaiter(readWaiterMarker(this.#fd), Date.now())) return;
    let locked = false;
    try {
      locked = tryFlock(this.#fd, FLOCK_EXCLUSIVE_NOWAIT);
      if (!locked) return;
      const now = fstatSync(this.#fd);
      if (now.ino !== published.ino || now.mtimeMs !== published.mtimeMs || now.ctimeMs !== published.ctimeMs) return;
      writeHolderMetadata(this.#fd, encodeHolderMetadata({ ...published.metadata, released: new Date().toISOString() }));
    } catch {
      // The record stays as it was: status() then reports it stale once this process is gone.
    } finally {
      this.#published = undefined;
      if (locked) {
        try {
          unflock(this.#fd);
          // One that began to wait in those two calls: woken now, not left to its next poll.
          if (isLiveOtherWaiter(readWaiterMarker(this.#fd), Date.now())) wakeWaiters(this.#fd);
        } catch {
          // The descriptor is closed next, which drops the flock all the same.
        }
      }
    }
  }

  /** Closes the descriptor when no FileLock refers to it and nothing holds or waits. */
  #closeIfUnused(): boolean {
    if (this.#references > 0 || this.#grants.size > 0 || this.#queue.length > 0) return false;
    this.#markRecordReleased();
    this.#discardDescriptor();
    if (openLockFiles.get(this.realPath) === this) openLockFiles.delete(this.realPath);
    return true;
  }
}
