/**
 * Recall counts gathered in memory and written in batches, as commutative increments
 * (`recall_count = recall_count + n`), so processes never overwrite each other's counts. A batch
 * is written every `intervalMs`, when `maxPending` increments are waiting, and on flush()/close().
 * A process killed before a flush loses at most its unflushed increments.
 */
import { hitFaultPoint } from './fault-points.js';
import type { StoreLogger } from './store-logger.js';

export class RecallCounts {
  readonly #pending = new Map<number, number>();
  /** The batch being written: still counted by pendingFor() until its COMMIT. */
  #inFlight = new Map<number, number>();
  readonly #write: (increments: ReadonlyMap<number, number>, onCommitted: () => void) => Promise<void>;
  readonly #maxPending: number;
  #pendingTotal = 0;
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> | undefined;

  readonly #logger: StoreLogger;

  constructor(
    write: (increments: ReadonlyMap<number, number>, onCommitted: () => void) => Promise<void>,
    intervalMs: number,
    maxPending: number,
    logger: StoreLogger,
  ) {
    this.#write = write;
    this.#maxPending = maxPending;
    this.#logger = logger;
    this.#timer = setInterval(() => this.#flushInBackground(), intervalMs);
    // The counts never keep a process alive: close() writes what is left.
    this.#timer.unref();
  }

  /** Increments waiting to be written, for stats(). */
  get pending(): number {
    return this.#pendingTotal;
  }

  /** The increment not yet committed for one record (waiting, or in the batch being written). */
  pendingFor(seq: number): number {
    return (this.#pending.get(seq) ?? 0) + (this.#inFlight.get(seq) ?? 0);
  }

  add(seq: number): void {
    this.#pending.set(seq, (this.#pending.get(seq) ?? 0) + 1);
    this.#pendingTotal += 1;
    if (this.#pendingTotal >= this.#maxPending && this.#writing === undefined) this.#flushInBackground();
  }

  /** A flush nobody awaits: a failure keeps the counts pending and is reported, never thrown. */
  #flushInBackground(): void {
    this.flush().catch((error: unknown) => {
      this.#logger.warn({ pending: this.#pendingTotal, error: String(error) }, 'memhub: recall counts not written yet; will retry');
    });
  }

  /**
   * Writes every pending increment in one transaction. On failure the increments go back into
   * the pending set (merged with any added meanwhile) and the error reaches the caller.
   */
  async flush(): Promise<void> {
    while (this.#writing !== undefined) await this.#writing;
    if (this.#pending.size === 0) return;
    hitFaultPoint('recall-flush');
    const batch = new Map(this.#pending);
    this.#pending.clear();
    this.#pendingTotal = 0;
    this.#inFlight = batch;
    const committed = () => {
      this.#inFlight = new Map();
    };
    this.#writing = this.#write(batch, committed)
      .catch((error: unknown) => {
        committed();
        for (const [seq, count] of batch) {
          this.#pending.set(seq, (this.#pending.get(seq) ?? 0) + count);
          this.#pendingTotal += count;
        }
        throw error;
      })
      .finally(() => {
        this.#writing = undefined;
      });
    await this.#writing;
  }

  /** Writes what is left and stops the timer. */
  async close(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.flush();
  }
}
