import type { FileLock } from '@memhub/lock';

interface PendingCall<Input, Output> {
  readonly inputs: readonly Input[];
  readonly onCommitted: (() => void) | undefined;
  readonly resolve: (outputs: Output[]) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Group commit. Calls that arrive while a transaction is being prepared or is in flight join the
 * next one, so the lock and the commit are paid once per batch, not once per record.
 *
 * Lock order (DESIGN rule 3): this queue -> flock(memory.db.lock) -> BEGIN IMMEDIATE -> COMMIT ->
 * release. Waiting for the flock is asynchronous (the event loop keeps serving reads and timers);
 * once it is held, the whole transaction runs synchronously, so neither the flock nor the
 * transaction is ever held across an await.
 */
export class GroupCommit<Input, Output> {
  readonly #lock: FileLock;
  readonly #commit: (inputs: readonly Input[]) => Output[];
  readonly #purpose: string;
  readonly #timeoutMs: number;
  #pending: PendingCall<Input, Output>[] = [];
  #draining: Promise<void> | undefined;

  /** `commit` runs under the flock; it must open and finish its own BEGIN IMMEDIATE transaction. */
  constructor(lock: FileLock, commit: (inputs: readonly Input[]) => Output[], purpose: string, timeoutMs: number) {
    this.#lock = lock;
    this.#commit = commit;
    this.#purpose = purpose;
    this.#timeoutMs = timeoutMs;
  }

  /**
   * Queues the inputs (written together, in one transaction) and resolves with their outputs in
   * order. `onCommitted` runs synchronously right after the COMMIT, before any caller resumes.
   */
  submit(inputs: readonly Input[], onCommitted?: () => void): Promise<Output[]> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ inputs, onCommitted, resolve, reject });
      this.#draining ??= this.#drain();
    });
  }

  /** Resolves once every call submitted so far is committed or failed. */
  async settled(): Promise<void> {
    while (this.#draining !== undefined) await this.#draining;
  }

  /**
   * Writes batches until the queue is empty. It marks itself finished in the same synchronous
   * step in which it finds the queue empty: a `.finally()` would clear the mark a microtask
   * later, and a call submitted in between (by a caller resuming from the last batch) would sit
   * in the queue with nobody to write it.
   */
  async #drain(): Promise<void> {
    try {
      // Yield to the event loop before the first batch: the calls of this turn gather into it,
      // and pending I/O runs. Without it, a caller that awaits remember() in a loop on a free
      // lock would resolve through microtasks only and starve every timer and socket.
      await new Promise<void>((resolve) => setImmediate(resolve));
      while (this.#pending.length > 0) {
        const batch = this.#pending;
        this.#pending = [];
        let held;
        try {
          held = await this.#lock.acquire({ purpose: this.#purpose, timeoutMs: this.#timeoutMs });
        } catch (error) {
          for (const call of batch) call.reject(error);
          continue;
        }
        let outputs: Output[];
        try {
          outputs = this.#commit(batch.flatMap((call) => call.inputs));
        } catch (error) {
          held.release();
          for (const call of batch) call.reject(error);
          continue;
        }
        held.release();
        for (const call of batch) call.onCommitted?.();
        let offset = 0;
        for (const call of batch) {
          call.resolve(outputs.slice(offset, offset + call.inputs.length));
          offset += call.inputs.length;
        }
      }
    } finally {
      // No await between the empty-queue check above and this line.
      this.#draining = undefined;
    }
  }
}
