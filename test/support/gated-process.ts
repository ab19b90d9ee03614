// A process that gets ready, then waits for a go: it prints `ready` on a line of its own once set
// up, and starts its work when its stdin closes. Starting several such processes and giving the go
// to all of them once all are ready makes their work overlap, however long each took to start on
// a busy machine.
import { spawn } from 'node:child_process';
import type { ProcessOutcome } from './run-process.js';
import { tail } from './run-process.js';

export interface GatedProcess {
  /** Resolves at its `ready` line; rejects if it ends before (with what it printed). */
  readonly ready: Promise<void>;
  /** Closes its stdin: the go. */
  go(): void;
  /** Resolves when it has ended, however it ended. */
  readonly outcome: Promise<ProcessOutcome>;
  kill(): void;
}

export function startGatedProcess(name: string, args: readonly string[], options: { cwd: string; env: NodeJS.ProcessEnv }): GatedProcess {
  const child = spawn(process.execPath, args, { cwd: options.cwd, env: options.env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let markReady: () => void = () => {};
  let failBeforeReady: (error: Error) => void = () => {};
  const ready = new Promise<void>((resolve, reject) => {
    markReady = resolve;
    failBeforeReady = reject;
  });
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    if (/^ready$/m.test(stdout)) markReady();
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  // A writer that died already makes the go's write fail with EPIPE: its outcome says why.
  child.stdin.on('error', () => {});
  const outcome = new Promise<ProcessOutcome>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      failBeforeReady(new Error(`${name} ended before it was ready (exit code ${code}, signal ${signal})\n${tail(stdout)}\n${tail(stderr)}`));
      resolve({ code, signal, stdout, stderr });
    });
  });
  // Awaited through `outcome` by whoever waits for it; no unhandled rejection if nobody waits for ready.
  ready.catch(() => {});
  return { ready, go: () => child.stdin.end(), outcome, kill: () => child.kill('SIGKILL') };
}
