// Runs a program to its end and keeps everything a failure message needs: exit code, signal and
// both outputs. Unlike execFile, a non-zero exit is a result to assert on, not a thrown error, so
// that the test can say which of several processes failed and show what it printed.
import { spawn } from 'node:child_process';

export interface ProcessOutcome {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** Killed (SIGKILL) after this long, and the run rejected: a hung install or writer fails the test instead of the suite. */
  readonly timeoutMs: number;
}

export function runProcess(command: string, args: readonly string[], options: RunOptions): Promise<ProcessOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${describeCommand(command, args)} did not finish in ${options.timeoutMs / 1000} s (killed)\n${tail(stdout)}\n${tail(stderr)}`));
    }, options.timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** `command args...` on one line, for messages. */
export function describeCommand(command: string, args: readonly string[]): string {
  return [command, ...args].join(' ');
}

/** The end of an output, at most `lines` lines and `chars` characters: enough to see why an install or a program failed. */
export function tail(output: string, lines = 40, chars = 4000): string {
  const all = output.trimEnd().split('\n');
  const shown = all.length > lines ? [`... (${all.length - lines} lines before)`, ...all.slice(-lines)].join('\n') : all.join('\n');
  return shown.length > chars ? `... ${shown.slice(-chars)}` : shown;
}

/** Fails with the program's output unless it exited with code 0 and no signal. */
export function assertSucceeded(outcome: ProcessOutcome, what: string): void {
  if (outcome.code === 0 && outcome.signal === null) return;
  throw new Error(`${what} failed (exit code ${outcome.code}, signal ${outcome.signal})\nstdout:\n${tail(outcome.stdout)}\nstderr:\n${tail(outcome.stderr)}`);
}
