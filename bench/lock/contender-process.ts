import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import {
  type ContenderKind,
  EXIT_LINE,
  GO_PREFIX,
  parseRoundReport,
  READY_LINE,
  RESULT_PREFIX,
  type RoundReport,
} from './contender-protocol.js';

/** Node flags that run a TypeScript entry point from the workspace sources, as `pnpm bench:lock` itself runs. */
const TS_NODE_ARGS = ['--conditions=@memhub/source', '--import', 'tsx'];
const CONTENDER_ENTRY = fileURLToPath(new URL('./contender.ts', import.meta.url));
/** The bench package folder: `--import tsx` is resolved from the working directory. */
const BENCH_FOLDER = fileURLToPath(new URL('..', import.meta.url));

/** The parent's side of one contender child: send it commands, await its lines. */
export class ContenderProcess {
  readonly #child: ChildProcess;
  readonly #lines: string[] = [];
  #wake: (() => void) | undefined;
  #stderr = '';
  #exit: string | undefined;

  constructor(kind: ContenderKind, lockPath: string, counterPath: string) {
    this.#child = spawn(process.execPath, [...TS_NODE_ARGS, CONTENDER_ENTRY, kind, lockPath, counterPath], {
      cwd: BENCH_FOLDER,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    // A write to a child that has just died fails with EPIPE; the exit event already tells of it.
    this.#child.stdin?.on('error', () => {});
    this.#child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.#stderr += chunk;
    });
    createInterface({ input: this.#child.stdout! }).on('line', (line) => {
      this.#lines.push(line);
      this.#wake?.();
    });
    this.#child.on('exit', (code, signal) => {
      this.#exit = signal === null ? `exit code ${code}` : `signal ${signal}`;
      this.#wake?.();
    });
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** Resolves when the child has loaded its modules and opened its lock. */
  async ready(timeoutMs: number): Promise<void> {
    const line = await this.#nextLine(timeoutMs);
    if (line !== READY_LINE) throw this.#failure(`said "${line}" instead of "${READY_LINE}"`);
  }

  /** Starts a round of `cycles` acquire/increment/release cycles, each followed by `thinkUs` of work outside the lock. */
  go(cycles: number, thinkUs: number): void {
    this.#child.stdin?.write(`${GO_PREFIX}${cycles} ${thinkUs}\n`);
  }

  /** The report of the round started by go(). */
  async result(timeoutMs: number): Promise<RoundReport> {
    const line = await this.#nextLine(timeoutMs);
    if (!line.startsWith(RESULT_PREFIX)) throw this.#failure(`said "${line.slice(0, 80)}" instead of a result`);
    return parseRoundReport(line.slice(RESULT_PREFIX.length));
  }

  /** Asks the child to close its lock and exit; kills it if it has not within `timeoutMs`. */
  async stop(timeoutMs = 5_000): Promise<void> {
    if (this.#exit !== undefined) return;
    const exited = new Promise<void>((resolve) => this.#child.once('exit', () => resolve()));
    this.#child.stdin?.end(`${EXIT_LINE}\n`);
    const timer = setTimeout(() => this.kill(), timeoutMs);
    await exited;
    clearTimeout(timer);
  }

  kill(): void {
    if (this.#exit === undefined) this.#child.kill('SIGKILL');
  }

  async #nextLine(timeoutMs: number): Promise<string> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const line = this.#lines.shift();
      if (line !== undefined) return line;
      if (this.#exit !== undefined) throw this.#failure(`ended (${this.#exit})`);
      const remaining = deadline - performance.now();
      if (remaining <= 0) throw this.#failure(`sent nothing for ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
  }

  #failure(what: string): Error {
    const stderr = this.#stderr.trim();
    return new Error(`contender pid ${this.pid ?? '?'} ${what}${stderr === '' ? '' : `; its stderr:\n${stderr}`}`);
  }
}
