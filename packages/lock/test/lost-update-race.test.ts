import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openLock } from '../src/index.js';
import { FixtureProcess, startFixtureWorker } from './support/processes.js';

let dir: string;
let counterPath: string;
let lockPath: string;
const children: FixtureProcess[] = [];
const workers: Worker[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'memhub-lock-race-'));
  counterPath = join(dir, 'counter');
  lockPath = join(dir, 'counter.lock');
  writeFileSync(counterPath, '0');
});

afterEach(async () => {
  for (const child of children.splice(0)) child.kill();
  await Promise.all(workers.splice(0).map((worker) => worker.terminate()));
  rmSync(dir, { recursive: true, force: true });
});

function counter(): number {
  return Number(readFileSync(counterPath, 'utf8'));
}

/** Starts `count` processes, waits until all are ready, releases them at once, waits for all. */
async function runProcesses(count: number, iterations: number, useLock: boolean): Promise<void> {
  const started = Array.from({ length: count }, () => {
    const child = new FixtureProcess('counter-increment.ts', [
      JSON.stringify({ counterPath, lockPath, iterations, useLock, style: 'async' }),
    ]);
    children.push(child);
    return child;
  });
  await Promise.all(started.map((child) => child.waitForLine('ready')));
  for (const child of started) child.send('go');
  await Promise.all(started.map((child) => child.waitForLine('done', 30_000)));
  expect(await Promise.all(started.map((child) => child.exited()))).toEqual(started.map(() => 0));
}

async function runWorkers(count: number, iterations: number, useLock: boolean): Promise<void> {
  const started = Array.from({ length: count }, () => {
    const worker = startFixtureWorker('counter-increment.ts', {
      counterPath,
      lockPath,
      iterations,
      useLock,
      style: 'sync',
    });
    workers.push(worker);
    return worker;
  });
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
  });

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
