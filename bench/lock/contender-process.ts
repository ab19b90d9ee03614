import { fileURLToPath } from 'node:url';
import { LineChild } from '../shared/line-child.js';
import { type ContenderKind, GO_PREFIX, parseRoundReport, type RoundReport } from './contender-protocol.js';

const CONTENDER_ENTRY = fileURLToPath(new URL('./contender.ts', import.meta.url));

/** The parent's side of one contender child: send it commands, await its lines. */
export class ContenderProcess {
  readonly #child: LineChild;

  constructor(kind: ContenderKind, lockPath: string, counterPath: string) {
    this.#child = new LineChild('contender', CONTENDER_ENTRY, [kind, lockPath, counterPath]);
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** Resolves when the child has loaded its modules and opened its lock. */
  async ready(timeoutMs: number): Promise<void> {
    await this.#child.ready(timeoutMs);
  }

  /** Starts a round of `cycles` acquire/increment/release cycles, each followed by `thinkUs` of work outside the lock. */
  go(cycles: number, thinkUs: number): void {
    this.#child.send(`${GO_PREFIX}${cycles} ${thinkUs}`);
  }

  /** The report of the round started by go(). */
  async result(timeoutMs: number): Promise<RoundReport> {
    return parseRoundReport(await this.#child.resultJson(timeoutMs));
  }

  /** Asks the child to close its lock and exit; kills it if it has not within `timeoutMs`. */
  async stop(timeoutMs = 5_000): Promise<void> {
    await this.#child.stop(timeoutMs);
  }

  kill(): void {
    this.#child.kill();
  }
}
