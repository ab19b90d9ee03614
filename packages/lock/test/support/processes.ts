import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { fixtureNodeArgs, startFixtureWorkerThread } from './fixture-bundles.js';

export { TS_NODE_ARGS } from './fixture-bundles.js';

export function fixturePath(name: string): string {
  return fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
}

/** A child process running a fixture (a name in ../fixtures, or an absolute path), with its stdout read line by line. */
export class FixtureProcess {
  readonly child: ChildProcess;
  readonly #lines: string[] = [];
  readonly #waiters: { predicate: (line: string) => boolean; resolve: (line: string) => void }[] = [];
  stderr = '';

  constructor(name: string, args: readonly string[] = [], env: NodeJS.ProcessEnv = {}) {
    const file = isAbsolute(name) ? name : fixturePath(name);
    // The fixture's bundle made for this test run, or the .ts file through tsx (fixture-bundles.ts).
    this.child = spawn(process.execPath, [...fixtureNodeArgs(file), ...args], {
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString();
    });
    const lines = createInterface({ input: this.child.stdout! });
    lines.on('line', (line) => {
      this.#lines.push(line);
      for (const waiter of [...this.#waiters]) {
        if (waiter.predicate(line)) {
          this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
      }
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  get lines(): readonly string[] {
    return this.#lines;
  }

  /**
   * Resolves with the first line (already printed or still to come) that starts with `prefix`.
   * Rejects, with the child's stderr, when the child exits without printing it or the time is up.
   */
  waitForLine(prefix: string, timeoutMs = 20_000): Promise<string> {
    const predicate = (line: string) => line.startsWith(prefix);
    const seen = this.#lines.find(predicate);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const fail = (why: string) => {
        clearTimeout(timer);
        this.child.off('close', onClose);
        reject(new Error(`no line "${prefix}" from pid ${this.pid}: ${why}; stderr: ${this.stderr}`));
      };
      const timer = setTimeout(() => fail(`not in ${timeoutMs} ms`), timeoutMs);
      // 'close' comes after the last stdout line was read, so a line printed just before exit is not missed.
      const onClose = (code: number | null, signal: string | null) => {
        if (this.#lines.some(predicate)) return;
        fail(`it exited (${signal ?? code})`);
      };
      this.child.once('close', onClose);
      this.#waiters.push({
        predicate,
        resolve: (line) => {
          clearTimeout(timer);
          this.child.off('close', onClose);
          resolve(line);
        },
      });
    });
  }

  send(line: string): void {
    this.child.stdin?.write(`${line}\n`);
  }

  /** Waits for the exit and returns the code (or the signal's name). */
  async exited(): Promise<number | string> {
    if (this.child.exitCode !== null) return this.child.exitCode;
    if (this.child.signalCode !== null) return this.child.signalCode;
    const [code, signal] = (await once(this.child, 'exit')) as [number | null, NodeJS.Signals | null];
    return code ?? signal ?? -1;
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    this.child.kill(signal);
  }
}

/**
 * A worker thread running a TypeScript fixture (its bundle, or the file through tsx: see
 * fixture-bundles.ts). The fixture reads its own data from `workerData.data`.
 */
export function startFixtureWorker(name: string, data: unknown): Worker {
  return startFixtureWorkerThread(fixturePath(name), data);
}
