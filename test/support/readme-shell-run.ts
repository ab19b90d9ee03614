// Runs one README command line with bash, as a reader's shell would, in a process group of its
// own: a timeout kills the whole group (memhub ingest's workers too), and an interrupted command
// gets SIGINT as Ctrl-C sends it, to every process of the line at once.
import { spawn } from 'node:child_process';
import type { ProcessOutcome } from './run-process.js';

export interface ShellRunOptions {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly timeoutMs: number;
  /** For a command that runs until Ctrl-C: SIGINT to the group once its stdout satisfies this. */
  readonly interruptWhen?: (stdout: string) => boolean;
}

export interface ShellOutcome extends ProcessOutcome {
  /** The command was still running at the timeout, and was killed. */
  readonly timedOut: boolean;
}

/** `bash -c` with pipefail, so that `memhub recall --json | jq ...` fails when memhub does. stdin is empty (/dev/null). */
export function runShellLine(command: string, options: ShellRunOptions): Promise<ShellOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', `set -o pipefail\n${command}`], {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let interrupted = false;
    const signalGroup = (signal: NodeJS.Signals): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, signal);
      } catch {
        // The group is gone already.
      }
    };
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (!interrupted && options.interruptWhen?.(stdout) === true) {
        interrupted = true;
        signalGroup('SIGINT');
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      timedOut = true;
      signalGroup('SIGKILL');
    }, options.timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}
