import type { LockModeName } from './errors.js';

/**
 * One hold of a lock. `release()` ends it (calling it again does nothing), and so does leaving
 * the scope of `using` / `await using`:
 *
 * ```ts
 * await using held = await lock.acquire({ purpose: 'append' });
 * // ... critical section ...
 * // released here, also when the section throws
 * ```
 */
export class LockHandle implements Disposable, AsyncDisposable {
  readonly mode: LockModeName;
  readonly purpose: string;
  /** Epoch milliseconds at which the hold began. */
  readonly since: number;
  /** True when this handle was granted inside a chain that already held the lock (no new hold). */
  readonly reentrant: boolean;
  #release: (() => void) | undefined;
  readonly #confirm: () => boolean;

  /** @internal Handles are made by FileLock. */
  constructor(mode: LockModeName, purpose: string, since: number, reentrant: boolean, release: () => void, confirm: () => boolean) {
    this.mode = mode;
    this.purpose = purpose;
    this.since = since;
    this.reentrant = reentrant;
    this.#release = release;
    this.#confirm = confirm;
  }

  get released(): boolean {
    return this.#release === undefined;
  }

  /**
   * Whether this hold still excludes everyone who opens the lock's path. A lock file deleted or
   * replaced while held (someone removed a "stale" `.lock`) lets the next process lock a new file
   * at the same path; confirm() then takes that file too, without waiting, and returns true, so
   * that later comers wait again. It returns false when another holder already has the file at the
   * path (or the hold is released): the caller is not alone, and should not start work that needs
   * the lock, or should rely on a second line of defence for work already under way. One stat(2)
   * when nothing changed: cheap enough to call before every commit.
   */
  confirm(): boolean {
    if (this.#release === undefined) return false;
    return this.#confirm();
  }

  release(): void {
    const release = this.#release;
    this.#release = undefined;
    release?.();
  }

  [Symbol.dispose](): void {
    this.release();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.release();
  }
}
