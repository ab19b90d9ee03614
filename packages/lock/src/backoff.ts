/**
 * How long a waiter sleeps between non-blocking flock attempts. It starts short (a local lock is
 * usually held for well under a millisecond), grows by half each time up to a few milliseconds
 * (a poll is two system calls, so even a long wait costs little), and is jittered so that
 * waiters in different processes do not retry in lockstep. The cap bounds how long a released
 * lock can sit unused before a waiter notices, and so how long a fair yield must last.
 */
export class Backoff {
  #nextMs: number;
  readonly #maxMs: number;

  constructor(initialMs = 0.5, maxMs = 2.5) {
    this.#nextMs = initialMs;
    this.#maxMs = maxMs;
  }

  /** The next delay in milliseconds, never more than `remainingMs`. */
  next(remainingMs: number): number {
    const base = this.#nextMs;
    this.#nextMs = Math.min(this.#maxMs, base * 1.5);
    const jittered = base / 2 + Math.random() * base;
    return Math.max(0, Math.min(jittered, remainingMs));
  }
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/**
 * Blocks this thread for `milliseconds`. Used only by the synchronous acquire, whose callers
 * asked to block (a worker thread, or a short timeout); the async path never calls it.
 */
export function sleepSync(milliseconds: number): void {
  if (milliseconds > 0) Atomics.wait(sleepCell, 0, 0, milliseconds);
}
