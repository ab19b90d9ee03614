import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { EXIT_LINE, READY_LINE, RESULT_PREFIX } from './line-protocol.js';

/** Node flags that run a TypeScript entry point from the workspace sources, as the bench scripts themselves run. */
const TS_NODE_ARGS = ['--conditions=@memhub/source', '--import', 'tsx'];
/** The bench package folder: `--import tsx` is resolved from the working directory. */
const BENCH_FOLDER = fileURLToPath(new URL('..', import.meta.url));

/**
 * The parent's side of one bench child: a Node process running a TypeScript file of the bench,
 * spoken to in lines. Its stderr is kept for the error message when it fails.
 */
export class LineChild {
  readonly #label: string;
  readonly #child: ChildProcess;
  readonly #lines: string[] = [];
  #wake: (() => void) | undefined;
  #stderr = '';
  #exit: string | undefined;

  /** `entry` is the absolute path of the child's .ts file; `label` names it in errors ("contender"). */
  constructor(label: string, entry: string, args: readonly string[]) {
    this.#label = label;
    this.#child = spawn(process.execPath, [...TS_NODE_ARGS, entry, ...args], {
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

  /** Sends one line to the child's stdin. */
  send(line: string): void {
    this.#child.stdin?.write(`${line}\n`);
  }

  /** Resolves when the child says `ready`. */
  async ready(timeoutMs: number): Promise<void> {
    const line = await this.nextLine(timeoutMs);
    if (line !== READY_LINE) throw this.failure(`said "${line.slice(0, 80)}" instead of "${READY_LINE}"`);
  }

  /** The JSON text of the child's next `result` line. */
  async resultJson(timeoutMs: number): Promise<string> {
    const line = await this.nextLine(timeoutMs);
    if (!line.startsWith(RESULT_PREFIX)) throw this.failure(`said "${line.slice(0, 80)}" instead of a result`);
    return line.slice(RESULT_PREFIX.length);
  }

  /** The child's next line on stdout. */
  async nextLine(timeoutMs: number): Promise<string> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const line = this.#lines.shift();
      if (line !== undefined) return line;
      if (this.#exit !== undefined) throw this.failure(`ended (${this.#exit})`);
      const remaining = deadline - performance.now();
      if (remaining <= 0) throw this.failure(`sent nothing for ${timeoutMs} ms`);
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

  /**
   * Asks the child to finish (`exit`) and waits for it to end; kills it if it has not within
   * `timeoutMs`. Resolves with how it ended, e.g. "exit code 0".
   */
  async stop(timeoutMs = 5_000): Promise<string> {
    if (this.#exit === undefined) {
      const exited = new Promise<void>((resolve) => this.#child.once('exit', () => resolve()));
      this.#child.stdin?.end(`${EXIT_LINE}\n`);
      const timer = setTimeout(() => this.kill(), timeoutMs);
      await exited;
      clearTimeout(timer);
    }
    return this.#exit ?? 'unknown';
  }

  kill(): void {
    if (this.#exit === undefined) this.#child.kill('SIGKILL');
  }

  /** An error that names the child and carries what it printed on stderr. */
  failure(what: string): Error {
    const stderr = this.#stderr.trim();
    return new Error(`${this.#label} pid ${this.pid ?? '?'} ${what}${stderr === '' ? '' : `; its stderr:\n${stderr}`}`);
  }
}
