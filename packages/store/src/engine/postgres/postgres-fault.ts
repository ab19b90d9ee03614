/**
 * A fault point for tests of crash safety, off unless the environment turns it on:
 *
 *   MEMHUB_FAULT=pg-before-commit:<n>
 *
 * makes the n-th write transaction of each PostgreSQL store object in the process (1-based,
 * default 1) stop after its statements, holding the write lock, before COMMIT, and never go on:
 * the process is then killed from outside, as a machine or a process can die mid-transaction.
 * It says so on stderr. Read once when the store opens.
 */
export class FaultPoint {
  readonly #stopAtTransaction: number | undefined;

  constructor(setting: string | undefined = process.env['MEMHUB_FAULT']) {
    const match = /^pg-before-commit(?::(\d+))?$/.exec(setting ?? '');
    this.#stopAtTransaction = match === null ? undefined : Number(match[1] ?? '1');
  }

  /** Resolves at once, unless this is the transaction to stop in: then never. */
  async beforeCommit(transaction: number): Promise<void> {
    if (transaction !== this.#stopAtTransaction) return;
    process.stderr.write(`memhub fault pg-before-commit: transaction ${transaction} holds the write lock and will not commit\n`);
    await new Promise<never>(() => {});
  }
}
