import type { LockOptions } from 'proper-lockfile';

/**
 * What the parent (run.ts) and each contender child (contender.ts) say to each other, one line
 * at a time. Parent -> child on stdin: `go <cycles> <think-us>` starts a round, `exit` ends the child.
 * Child -> parent on stdout: `ready` once it has loaded and opened its lock, then one
 * `result <json>` per round. Anything a child prints on stderr is kept for the error message.
 */

/** Which lock the contenders fight over. */
export const CONTENDER_KINDS = ['flock', 'memhub', 'proper-lockfile'] as const;
export type ContenderKind = (typeof CONTENDER_KINDS)[number];

export function isContenderKind(value: unknown): value is ContenderKind {
  return (CONTENDER_KINDS as readonly unknown[]).includes(value);
}

// The line words are those of every bench child.
export { EXIT_LINE, GO_PREFIX, READY_LINE, RESULT_PREFIX } from '../shared/line-protocol.js';

/** What one child did in one round. */
export interface RoundReport {
  readonly pid: number;
  readonly cycles: number;
  /**
   * Cycles in which the counter file was last written by another process: the lock really went
   * from one process to another, rather than back to the one that had just released it.
   */
  readonly crossProcess: number;
  /** Time from calling acquire to holding the lock, per cycle, in microseconds (0.1 us steps). */
  readonly waitsUs: readonly number[];
}

export function parseRoundReport(json: string): RoundReport {
  const value = JSON.parse(json) as Partial<RoundReport>;
  if (
    typeof value.pid !== 'number' ||
    typeof value.cycles !== 'number' ||
    typeof value.crossProcess !== 'number' ||
    !Array.isArray(value.waitsUs) ||
    !value.waitsUs.every((wait) => typeof wait === 'number')
  ) {
    throw new Error(`malformed round report: ${json.slice(0, 200)}`);
  }
  return { pid: value.pid, cycles: value.cycles, crossProcess: value.crossProcess, waitsUs: value.waitsUs };
}

/**
 * proper-lockfile under contention. Its default is `retries: 0` (fail at once when held), which
 * would make every contender throw, so it gets a retry schedule shaped like memhub's own backoff
 * (first retry after 1-2 ms, x1.5 each time, jittered, never more than 20 ms apart) and so many
 * retries that it never gives up during the bench. stale and update stay at their defaults (10 000 / 5 000 ms).
 */
export const PROPER_LOCKFILE_CONTENDED_OPTIONS: LockOptions = {
  retries: { retries: 100_000, factor: 1.5, minTimeout: 1, maxTimeout: 20, randomize: true },
};
