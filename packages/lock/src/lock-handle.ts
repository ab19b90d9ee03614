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

  /** @internal Handles are made by FileLock. */
  constructor(mode: LockModeName, purpose: string, since: number, reentrant: boolean, release: () => void) {
    this.mode = mode;
    this.purpose = purpose;
    this.since = since;
    this.reentrant = reentrant;
    this.#release = release;
  }

  get released(): boolean {
    return this.#release === undefined;
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
