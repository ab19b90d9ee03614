import { createInterface } from 'node:readline';

/**
 * For fixtures that many processes run at once: prints "ready", waits for a "go" line on stdin
 * (so that every process starts its work at the same moment, not as each one finishes loading),
 * runs `work`, and prints "done" followed by what it returns. A failure prints "error <message>"
 * and sets exit code 1, so the test sees it on stdout instead of waiting for a "done".
 */
export function runWhenTold(work: () => Promise<string | undefined>): void {
  console.log('ready');
  const input = createInterface({ input: process.stdin });
  input.once('line', () => {
    input.close();
    process.stdin.destroy(); // nothing more to read; let the process exit when the work is done
    work().then(
      (result) => console.log(result === undefined ? 'done' : `done ${result}`),
      (error: unknown) => {
        console.error(error);
        console.log(`error ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
        process.exitCode = 1;
      },
    );
  });
}
