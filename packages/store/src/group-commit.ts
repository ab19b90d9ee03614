import type { FileLock } from '@memhub/lock';

interface PendingCall<Input, Output> {
  readonly inputs: readonly Input[];
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

  /** Queues the inputs (written together, in one transaction) and resolves with their outputs in order. */
  submit(inputs: readonly Input[]): Promise<Output[]> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ inputs, resolve, reject });
      this.#draining ??= this.#drain().finally(() => {
        this.#draining = undefined;
      });
    });
  }

  /** Resolves once every call submitted so far is committed or failed. */
  async settled(): Promise<void> {
    while (this.#draining !== undefined) await this.#draining;
  }

  async #drain(): Promise<void> {
    // Let the calls of the current tick gather before the first batch.
    await Promise.resolve();
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
      let offset = 0;
      for (const call of batch) {
        call.resolve(outputs.slice(offset, offset + call.inputs.length));
        offset += call.inputs.length;
      }
    }
  }
}
