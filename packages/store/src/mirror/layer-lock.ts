import { LockTimeoutError, openLock, type FileLock, type HolderInfo, type LockHandle } from '@memhub/lock';
import type { StoreLogger } from '../store-logger.js';
import { refuseSymlink } from './refuse-symlinks.js';

/**
 * How long a post-commit append waits for a layer's writer lock before it leaves its lines to
 * whoever takes the lock next. A normal hold is short: one write(2) of a batch's lines (with an
 * fdatasync under durability 'full', a few ms, tens on a busy disk), an index update every
 * thousand lines (about a millisecond), a catch-up of a few thousand journal rows after a crash.
 * 100 ms is several such holds queued one behind the other: 8 processes appending to two layers
 * as fast as they can on a shared 2-core machine waited at most 40-160 ms for them with
 * durability 'normal' and never gave up; with 'full' (each hold an fdatasync) about 1 append in
 * 100 gave up, which costs nothing but a later catch-up. A holder that is frozen (SIGSTOP, a
 * debugger, a suspended VM), or a rebuild of a large layer, then costs each writer 100 ms instead
 * of `lockTimeoutMs` (30 s by default).
 */
export const APPEND_LOCK_WAIT_MS = 100;

export interface LayerLockOptions {
  /** `layers/<layer>.jsonl.lock`. */
  readonly path: string;
  readonly layer: string;
  readonly lockTimeoutMs: number;
  readonly allowUnsafeFilesystem: boolean;
  readonly logger: StoreLogger;
}

/**
 * One layer's writer lock, `layers/<layer>.jsonl.lock`. Those who need the file as it is (verify,
 * repair, a lookup) wait for it up to `lockTimeoutMs`, like any lock of the store. A writer that
 * has committed only wants its lines in the mirror, which is a view that can catch up later: it
 * waits APPEND_LOCK_WAIT_MS at most, then leaves the lines to the next holder (the journal keeps
 * them until then). Those give-ups are counted. The logger is warned once per hold (one holder,
 * one `since`), not once per write, and only when the same hold made this process give up twice:
 * it lasted through two waits, so it is stuck (frozen, or a long rebuild), not just one slow
 * hold among busy writers; a first give-up goes to `debug`.
 *
 * The lock library resolves a lock path's symlinks on purpose (every path to one file is one
 * lock), and writes its holder record into the file it reaches. In `layers/` a symlink is refused
 * instead (StoreSymlinkError): checked before the lock is opened and before every acquisition.
 */
export class LayerLock {
  readonly path: string;
  readonly #options: LayerLockOptions;
  readonly #lock: FileLock;
  /** Catch-ups (after a commit, on open, on close) that gave up on the lock (for stats and tests). */
  giveUps = 0;
  /** The hold this process last gave up on, and how many times; cleared once it holds the lock again. */
  #lastHold: { readonly key: string; giveUps: number } | undefined;

  constructor(options: LayerLockOptions) {
    this.#options = options;
    this.path = options.path;
    refuseSymlink(options.path);
    this.#lock = openLock(options.path, {
      purpose: `memhub mirror ${options.layer}`,
      timeoutMs: options.lockTimeoutMs,
      allowUnsafeFilesystem: options.allowUnsafeFilesystem,
    });
  }

  /** Runs `work` synchronously under the lock, waiting for it up to `lockTimeoutMs`. */
  async locked<T>(purpose: string, work: () => T): Promise<T> {
    refuseSymlink(this.path);
    const held = await this.#lock.acquire({ purpose });
    return this.#run(held, work);
  }

  /**
   * Runs `work` synchronously under the lock if it can be had within APPEND_LOCK_WAIT_MS, and
   * resolves with `{ value }`; else resolves with undefined, having done nothing.
   */
  async lockedUnlessHeld<T>(purpose: string, work: () => T): Promise<{ readonly value: T } | undefined> {
    refuseSymlink(this.path);
    let held: LockHandle;
    try {
      held = await this.#lock.acquire({ purpose, timeoutMs: Math.min(APPEND_LOCK_WAIT_MS, this.#options.lockTimeoutMs) });
    } catch (error) {
      if (!(error instanceof LockTimeoutError)) throw error;
      this.giveUps += 1;
      this.#report(error);
      return undefined;
    }
    return { value: this.#run(held, work) };
  }

  close(): void {
    this.#lock.close();
  }

  #run<T>(held: LockHandle, work: () => T): T {
    this.#lastHold = undefined;
    try {
      return work();
    } finally {
      held.release();
    }
  }

  /** Warns on the second give-up caused by one hold (once per hold); the first goes to debug. */
  #report(error: LockTimeoutError): void {
    const key = holdKey(error.holders);
    if (this.#lastHold?.key !== key) this.#lastHold = { key, giveUps: 0 };
    this.#lastHold.giveUps += 1;
    const details = { layer: this.#options.layer, lock: this.path, waitedMs: Math.round(error.waitedMs), holders: error.holders.map(describeHolder) };
    const left = 'the committed changes are left in the journal for the next writer, open, close, verify or lookup to append';
    if (this.#lastHold.giveUps === 1) {
      this.#options.logger.debug?.(details, `memhub: a layer mirror's writer lock was busy for ${APPEND_LOCK_WAIT_MS} ms; ${left}`);
    } else if (this.#lastHold.giveUps === 2) {
      this.#options.logger.warn(
        details,
        `memhub: a layer mirror's writer lock is held by another process through several waits of ${APPEND_LOCK_WAIT_MS} ms (frozen, or rebuilding the layer?); ` +
          `${left} (reported once for this hold)`,
      );
    }
  }
}

/** One hold: who, since when. A holder whose record could not be read is known by its pid alone. */
function holdKey(holders: readonly HolderInfo[]): string {
  return holders.map((holder) => `${holder.pid ?? '?'}@${holder.since ?? '?'}`).join(',');
}

function describeHolder(holder: HolderInfo): Record<string, unknown> {
  return { pid: holder.pid, host: holder.host, purpose: holder.purpose, since: holder.since, alive: holder.alive };
}
