import { readFileSync, writeFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { beforeEach, describe, expect, it } from 'vitest';
import { openLock } from '../src/index.js';
import { useScratch } from './support/scratch.js';

const scratch = useScratch('memhub-lock-race-');
let counterPath: string;
let lockPath: string;

beforeEach(() => {
  counterPath = scratch.path('counter');
  lockPath = scratch.path('counter.lock');
  writeFileSync(counterPath, '0');
});

function counter(): number {
  return Number(readFileSync(counterPath, 'utf8'));
}

/** Starts `count` processes, waits until all are ready, releases them at once, waits for all. */
async function runProcesses(count: number, iterations: number, useLock: boolean): Promise<void> {
  const started = Array.from({ length: count }, () =>
    scratch.spawn('counter-increment.ts', [
      JSON.stringify({ counterPath, lockPath, iterations, useLock, style: 'async' }),
    ]),
  );
  await Promise.all(started.map((child) => child.waitForLine('ready')));
  for (const child of started) child.send('go');
  // Exact counts, not speed: beside busy processes on 2 cores, 2,000 fair hand-offs can take a while.
  await Promise.all(started.map((child) => child.waitForLine('done', 150_000)));
  expect(await Promise.all(started.map((child) => child.exited()))).toEqual(started.map(() => 0));
}

async function runWorkers(count: number, iterations: number, useLock: boolean): Promise<void> {
  const started = Array.from({ length: count }, () =>
    scratch.worker('counter-increment.ts', { counterPath, lockPath, iterations, useLock, style: 'sync' }),
  );
  await Promise.all(started.map((worker) => once(worker, 'message')));
  const done = started.map((worker) => once(worker, 'message'));
  for (const worker of started) worker.postMessage('go');
  await Promise.all(done);
}

describe('the lost-update race', () => {
  it('is real: 8 processes x 250 unlocked read-modify-write increments lose updates', async () => {
    await runProcesses(8, 250, false);
    expect(counter()).toBeLessThan(2000);
  });

  it('is closed by the lock: 8 processes x 250 locked increments count exactly 2000', async () => {
    await runProcesses(8, 250, true);
    expect(counter()).toBe(2000);
  }, 180_000);

  it('is real between worker threads without the lock', async () => {
    await runWorkers(4, 250, false);
    expect(counter()).toBeLessThan(1000);
  });

  it('is closed between 4 worker threads holding the lock with acquireSync: exactly 1000', async () => {
    await runWorkers(4, 250, true);
    expect(counter()).toBe(1000);
  });

  async function hundredCallers(useLock: boolean): Promise<void> {
    const lock = openLock(lockPath);
    const increment = async () => {
      const value = Number(await readFile(counterPath, 'utf8'));
      await yieldToLoop();
      await writeFile(counterPath, String(value + 1));
    };
    await Promise.all(
      Array.from({ length: 100 }, async () => {
        for (let i = 0; i < 10; i += 1) {
          if (useLock) await lock.withLock(increment);
          else await increment();
        }
      }),
    );
    lock.close();
  }

  it('is real between 100 async callers of one process without the lock', async () => {
    await hundredCallers(false);
    expect(counter()).toBeLessThan(1000);
  });

  it('is closed between 100 async callers of one process: exactly 1000', async () => {
    await hundredCallers(true);
    expect(counter()).toBe(1000);
  });
});
