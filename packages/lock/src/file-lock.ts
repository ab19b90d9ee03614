import { AsyncLocalStorage } from 'node:async_hooks';
import { lstatSync, readlinkSync, realpathSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { LockArgumentError, LockClosedError, LockUpgradeError, type LockModeName } from './errors.js';
import { refuseUnsafeFilesystem } from './filesystem-kind.js';
import { assertFlockAvailable } from './flock.js';
import { DEFAULT_STARVATION_MS, LockFile, MAX_STARVATION_MS, type Grant } from './lock-file.js';
import { LockHandle } from './lock-handle.js';
import type { LockMetricsSnapshot } from './lock-metrics.js';
import type { LockStatus } from './lock-status.js';
import {
  validateBoolean,
  validateLockPath,
  validateMode,
  validateOptionsObject,
  validatePurpose,
  validateSignal,
  validateTimeout,
} from './validate.js';

/** Options of `openLock`. Copied and frozen when the lock is opened. */
export interface OpenLockOptions {
  /** Written into the lock file while held, so that waiters can say who holds it. Default `'lock'`. */
  readonly purpose?: string;
  /** Default wait for `acquire`/`acquireSync` in milliseconds; `Infinity` waits for ever. Default 10 000. */
  readonly timeoutMs?: number;
  /**
   * Lock on a network or FUSE filesystem anyway. flock(2) there is not shared between hosts (and
   * on some, not at all): only set this for a mount that one host uses.
   */
  readonly allowUnsafeFilesystem?: boolean;
  /**
   * Bounded unfairness: a caller that finds the lock free stays off it only while a waiter of
   * another thread or process has waited this much longer than the caller's own request; below
   * it, the caller at hand takes the free lock (no convoy of hand-offs to waiters that have no CPU
   * yet), above it the longest waiter goes first. Milliseconds, default 20.
   */
  readonly starvationMs?: number;
}

/** Options of one acquisition; each falls back to the lock's own. */
export interface AcquireOptions {
  /** `'exclusive'` (default): one holder. `'shared'`: any number of shared holders, no exclusive one. */
  readonly mode?: LockModeName;
  readonly timeoutMs?: number;
  readonly purpose?: string;
  /** Stops waiting when aborted (LockAbortedError). Once granted, the hold is the caller's to release. */
  readonly signal?: AbortSignal;
}

export const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * The locks that each async call chain holds, for reentrancy: lock file -> the hold. The hold
 * itself is kept, not just its mode: a callback scheduled inside `withLock` inherits the chain's
 * context and may run after the hold ended, and it must then wait like anyone else.
 */
const chainHolds = new AsyncLocalStorage<ReadonlyMap<LockFile, LockHandle>>();

/**
 * A flock(2) lock on one file, correct between processes, between worker threads, and between
 * the async call chains of one thread.
 *
 * ```ts
 * import { openLock } from '@memhub/lock';
 *
 * using lock = openLock('/var/lib/app/state.lock', { purpose: 'state writer' });
 * await lock.withLock(async () => {
 *   // only one process, thread and call chain at a time runs this
 * });
 * ```
 *
 * Each thread keeps one open descriptor per lock file (FileLocks for the same real path share
 * it) with a FIFO queue in front; waiting is done with non-blocking attempts and timers, never by
 * a blocking flock on the libuv pool. The lock file is created if missing and never deleted.
 */
export class FileLock implements Disposable {
  /** The path as given. */
  readonly path: string;
  /** The resolved real path: the lock's identity (symlinks to one file are one lock). */
  readonly realPath: string;
  readonly #options: Readonly<{ purpose: string; timeoutMs: number; starvationMs: number }>;
  readonly #handles = new Set<LockHandle>();
  readonly #defaultAcquireOptions: {
    readonly mode: LockModeName;
    readonly purpose: string;
    readonly timeoutMs: number;
    readonly signal: undefined;
  };
  #file: LockFile | undefined;

  /** @internal Use openLock(). */
  constructor(path: string, realPath: string, file: LockFile, options: { purpose: string; timeoutMs: number; starvationMs: number }) {
    this.path = path;
    this.realPath = realPath;
    this.#file = file;
    this.#options = Object.freeze({ ...options });
    this.#defaultAcquireOptions = Object.freeze({
      mode: 'exclusive',
      purpose: options.purpose,
      timeoutMs: options.timeoutMs,
      signal: undefined,
    });
  }

  get closed(): boolean {
    return this.#file === undefined;
  }

  /**
   * Waits for the lock without blocking the event loop, and returns the hold.
   * Throws LockTimeoutError (naming the holder), LockAbortedError, or LockUpgradeError.
   */
  async acquire(options?: AcquireOptions): Promise<LockHandle> {
    const file = this.#openFile();
    const { mode, purpose, timeoutMs, signal } = this.#acquireOptions(options);
    const reentrant = this.#reentrantHandle(file, mode, purpose);
    if (reentrant !== undefined) return reentrant;
    const grant = await file.acquire({ mode, purpose, timeoutMs, signal, owner: this, starvationMs: this.#options.starvationMs });
    return this.#handleFor(file, grant);
  }

  /**
   * Waits for the lock by blocking this thread between non-blocking attempts. Meant for worker
   * threads and for synchronous critical sections with a short timeout; in the main thread of a
   * server prefer `acquire()`. If another call chain of this thread holds the lock it throws
   * LockDeadlockError at once, since a blocked thread could never see that hold end.
   */
  acquireSync(options?: Omit<AcquireOptions, 'signal'>): LockHandle {
    const file = this.#openFile();
    const { mode, purpose, timeoutMs } = this.#acquireOptions(options);
    const reentrant = this.#reentrantHandle(file, mode, purpose);
    if (reentrant !== undefined) return reentrant;
    return this.#handleFor(file, file.acquireSync(mode, purpose, timeoutMs, this.#options.starvationMs));
  }

  /**
   * Takes the lock if it is free right now (and no caller of this thread is queued); else null.
   * With `yieldToStarved`, also null while a waiter in another process has waited longer than the
   * fairness threshold (20 ms): a caller that has something else to do than wait (hand its work
   * to the holder) lets that waiter go first, as a waiting caller would. Barging is then bounded.
   */
  tryAcquire(options?: Omit<AcquireOptions, 'signal' | 'timeoutMs'> & { readonly yieldToStarved?: boolean }): LockHandle | null {
    const file = this.#openFile();
    const { mode, purpose } = this.#acquireOptions(options);
    const yieldToStarved = validateBoolean(validateOptionsObject(options)['yieldToStarved'], false, 'options.yieldToStarved');
    const reentrant = this.#reentrantHandle(file, mode, purpose);
    if (reentrant !== undefined) return reentrant;
    const grant = file.tryAcquire(mode, purpose, yieldToStarved, this.#options.starvationMs);
    return grant === undefined ? null : this.#handleFor(file, grant);
  }

  /**
   * Runs `fn` holding the lock and releases it when `fn` settles, also when it throws. Inside
   * `fn` (and everything it awaits), acquiring the same lock again is reentrant.
   */
  async withLock<T>(fn: () => T | Promise<T>, options?: AcquireOptions): Promise<T> {
    const held = await this.acquire(options);
    try {
      return await this.#runInChain(held, fn);
    } finally {
      held.release();
    }
  }

  /** The synchronous withLock, over acquireSync. */
  withLockSync<T>(fn: () => T, options?: Omit<AcquireOptions, 'signal'>): T {
    const held = this.acquireSync(options);
    try {
      return this.#runInChain(held, fn);
    } finally {
      held.release();
    }
  }

  /** Free, shared or exclusive, and who holds it; read without waiting. */
  status(): LockStatus {
    return this.#openFile().status();
  }

  /** This thread's counters and wait/hold percentiles for this lock file. */
  metrics(): LockMetricsSnapshot {
    const file = this.#openFile();
    return file.metrics.snapshot(file.realPath);
  }

  /**
   * Releases every hold taken through this FileLock, rejects its queued acquires with
   * LockClosedError, and closes the descriptor once no other FileLock of this thread uses it.
   */
  close(): void {
    const file = this.#file;
    if (file === undefined) return;
    this.#file = undefined;
    file.cancelWaiters(this, new LockClosedError(this.realPath));
    for (const handle of [...this.#handles]) handle.release();
    file.detach();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #openFile(): LockFile {
    if (this.#file === undefined) throw new LockClosedError(this.realPath);
    return this.#file;
  }

  #acquireOptions(options: AcquireOptions | undefined) {
    // The common call passes no options: skip validating the defaults again on the hot path.
    if (options === undefined) return this.#defaultAcquireOptions;
    const given = validateOptionsObject(options);
    return {
      mode: validateMode(given['mode'], 'options.mode'),
      purpose: validatePurpose(given['purpose'], this.#options.purpose, 'options.purpose'),
      timeoutMs: validateTimeout(given['timeoutMs'], this.#options.timeoutMs, 'options.timeoutMs'),
      signal: validateSignal(given['signal'], 'options.signal'),
    };
  }

  /** Within a chain that holds this lock, a compatible acquire is granted without a new hold. */
  #reentrantHandle(file: LockFile, mode: LockModeName, purpose: string): LockHandle | undefined {
    const held = chainHolds.getStore()?.get(file);
    if (held === undefined || held.released) return undefined;
    if (held.mode === 'shared' && mode === 'exclusive') throw new LockUpgradeError(this.realPath);
    const outer = held;
    return new LockHandle(mode, purpose, Date.now(), true, () => {}, () => outer.confirm());
  }

  #handleFor(file: LockFile, grant: Grant): LockHandle {
    const handle = new LockHandle(
      grant.mode,
      grant.purpose,
      grant.since,
      false,
      () => {
        this.#handles.delete(handle);
        file.release(grant);
      },
      () => file.confirmHeld(),
    );
    this.#handles.add(handle);
    return handle;
  }

  #runInChain<T>(held: LockHandle, fn: () => T): T {
    const file = this.#openFile();
    if (held.reentrant) return fn();
    const holds = new Map(chainHolds.getStore());
    holds.set(file, held);
    return chainHolds.run(holds, fn);
  }
}

/**
 * Opens (creating if needed) the lock file at an absolute `path` and returns its FileLock. The
 * folder must exist. Refuses network and FUSE filesystems unless `allowUnsafeFilesystem` is set.
 *
 * ```ts
 * const lock = openLock(join(dir, 'memory.db.lock'), { purpose: 'write transaction' });
 * ```
 */
export function openLock(path: string, options?: OpenLockOptions): FileLock {
  validateLockPath(path);
  const given = validateOptionsObject(options);
  const purpose = validatePurpose(given['purpose'], 'lock', 'options.purpose');
  const timeoutMs = validateTimeout(given['timeoutMs'], DEFAULT_TIMEOUT_MS, 'options.timeoutMs');
  const allowUnsafeFilesystem = validateBoolean(given['allowUnsafeFilesystem'], false, 'options.allowUnsafeFilesystem');
  const starvationMs = validateStarvation(given['starvationMs']);
  assertFlockAvailable();
  const realPath = resolveLockPath(path);
  if (!allowUnsafeFilesystem) refuseUnsafeFilesystem(dirname(realPath), realPath);
  const file = LockFile.attach(realPath);
  return new FileLock(path, realPath, file, { purpose, timeoutMs, starvationMs });
}

function validateStarvation(value: unknown): number {
  if (value === undefined) return DEFAULT_STARVATION_MS;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_STARVATION_MS) {
    throw new LockArgumentError('options.starvationMs', `expected a number of milliseconds from 0 to ${MAX_STARVATION_MS}, got ${String(value)}`);
  }
  return value;
}

/**
 * The real path of the lock file: symlinks resolved, so that every path that reaches one file
 * names one lock. For a file not created yet, the real path of its folder joined with its name;
 * a dangling symlink resolves to the file it will create.
 */
export function resolveLockPath(path: string, depth = 0): string {
  try {
    return realpathSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || depth > 32) throw error;
    const link = lstatSync(path, { throwIfNoEntry: false });
    if (link?.isSymbolicLink() === true) return resolveLockPath(resolve(dirname(path), readlinkSync(path)), depth + 1);
    return join(realpathSync(dirname(path)), basename(path));
  }
}
