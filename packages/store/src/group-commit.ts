interface PendingCall<Input, Output> {
  readonly inputs: readonly Input[];
  readonly onCommitted: (() => void) | undefined;
  readonly resolve: (outputs: Output[]) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Writes a batch in one transaction. It calls `afterCommit` synchronously right after its COMMIT,
 * before it resolves, and resolves with one output per input, in order.
 */
export type BatchCommit<Input, Output> = (inputs: readonly Input[], afterCommit: () => void) => Promise<Output[]>;

/**
 * Group commit. Calls that arrive while a transaction is being prepared or is in flight join the
 * next one, so the write lock and the commit are paid once per batch, not once per record.
 *
 * This is the in-process queue at the head of the lock order (DESIGN rule 3): queue -> the
 * engine's write lock -> BEGIN IMMEDIATE -> COMMIT -> release. One batch is written at a time;
 * the engine takes its own lock for each one (engine/).
 */
export class GroupCommit<Input, Output> {
  readonly #commit: BatchCommit<Input, Output>;
  #pending: PendingCall<Input, Output>[] = [];
  #draining: Promise<void> | undefined;

  constructor(commit: BatchCommit<Input, Output>) {
    this.#commit = commit;
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
        let outputs: Output[];
        try {
          outputs = await this.#commit(
            batch.flatMap((call) => call.inputs),
            () => {
              for (const call of batch) call.onCommitted?.();
            },
          );
        } catch (error) {
          for (const call of batch) call.reject(error);
          continue;
        }
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
