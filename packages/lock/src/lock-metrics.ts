import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';

/** Percentiles of a set of durations, in milliseconds. */
export interface DurationSummary {
  readonly count: number;
  /** The durations added up: with `hold`, how long this thread has held the lock in all. */
  readonly totalMs: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

/** What one lock has done in this thread since it was first opened here. */
export interface LockMetricsSnapshot {
  readonly path: string;
  /** Acquisitions granted (a reentrant acquire within a held chain is not counted). */
  readonly acquisitions: number;
  /** Acquisitions that could not be granted at once and had to wait. */
  readonly contended: number;
  readonly timeouts: number;
  readonly aborts: number;
  /**
   * Waits that ended when a release in another process woke this one (the releasing holder
   * touches the lock file, which waiters watch), rather than at one of its own polls.
   */
  readonly wokenByRelease: number;
  /**
   * Holds that found their lock file deleted or replaced by another program and moved to the file
   * now at the path (see LockHandle.confirm()).
   */
  readonly replacedWhileHeld: number;
  /** Time from the acquire call to the grant, for every granted acquisition. */
  readonly wait: DurationSummary;
  /** Time from grant to release. */
  readonly hold: DurationSummary;
}

const NS_PER_MS = 1e6;

/**
 * Counters and histograms of one lock. Durations go into Node's native HDR histograms
 * (perf_hooks.createHistogram): recording is a constant-time call, memory is fixed, and the
 * percentiles come from the histogram, not from a growing array.
 */
export class LockMetrics {
  acquisitions = 0;
  contended = 0;
  timeouts = 0;
  aborts = 0;
  wokenByRelease = 0;
  replacedWhileHeld = 0;
  readonly #wait: RecordableHistogram = createHistogram();
  readonly #hold: RecordableHistogram = createHistogram();
  /** Exact sums: a histogram's mean is only as precise as its buckets. */
  #waitTotalMs = 0;
  #holdTotalMs = 0;

  recordWait(milliseconds: number): void {
    this.#wait.record(Math.max(1, Math.round(milliseconds * NS_PER_MS)));
    this.#waitTotalMs += milliseconds;
  }

  recordHold(milliseconds: number): void {
    this.#hold.record(Math.max(1, Math.round(milliseconds * NS_PER_MS)));
    this.#holdTotalMs += milliseconds;
  }

  snapshot(path: string): LockMetricsSnapshot {
    return {
      path,
      acquisitions: this.acquisitions,
      contended: this.contended,
      timeouts: this.timeouts,
      aborts: this.aborts,
      wokenByRelease: this.wokenByRelease,
      replacedWhileHeld: this.replacedWhileHeld,
      wait: summarise(this.#wait, this.#waitTotalMs),
      hold: summarise(this.#hold, this.#holdTotalMs),
    };
  }
}

function summarise(histogram: RecordableHistogram, totalMs: number): DurationSummary {
  const count = histogram.count;
  if (count === 0) return { count: 0, totalMs: 0, p50: 0, p99: 0, max: 0 };
  return {
    count,
    totalMs,
    p50: histogram.percentile(50) / NS_PER_MS,
    p99: histogram.percentile(99) / NS_PER_MS,
    max: histogram.max / NS_PER_MS,
  };
}
