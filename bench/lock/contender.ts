/**
 * One contending process of the multi-process hand-off bench, started by run.ts:
 *
 *   node --conditions=@memhub/source --import tsx lock/contender.ts <kind> <lock-file> <counter-file>
 *
 * Each round (`go <cycles> <think-us>` on stdin) it runs <cycles> times: acquire the lock, read
 * the counter file and write it back incremented (counter-file.ts), release, then, if think-us is
 * above 0, stay busy that long outside the lock. If the lock excludes properly the counter ends
 * at processes x cycles; a lost update means two processes held it at once. The counter also
 * names the last writer's pid, which tells whether the lock came from another process.
 * See contender-protocol.ts for the lines exchanged with the parent.
 */
import { closeSync, openSync } from 'node:fs';
import { hrtime } from 'node:process';
import { createInterface } from 'node:readline';
import { openLock } from '@memhub/lock';
import properLockfile from 'proper-lockfile';
import { flockSync, LOCK_EX, LOCK_UN } from '../shared/bare-flock.js';
import {
  EXIT_LINE,
  GO_PREFIX,
  isContenderKind,
  PROPER_LOCKFILE_CONTENDED_OPTIONS,
  READY_LINE,
  RESULT_PREFIX,
  type RoundReport,
} from './contender-protocol.js';
import { CounterFile } from './counter-file.js';

/** Takes the lock (resolving once held) and returns the function that releases it. */
type Acquire = () => Promise<() => void | Promise<void>> | (() => void);

interface Contender {
  readonly acquire: Acquire;
  close(): void;
}

function openContender(kind: string, lockPath: string): Contender {
  if (!isContenderKind(kind)) throw new Error(`unknown contender kind "${kind}"`);
  switch (kind) {
    case 'flock': {
      // The floor: a blocking flock, so the kernel itself wakes a waiter when the lock is dropped.
      const fd = openSync(lockPath, 'r+');
      return {
        acquire() {
          flockSync(fd, LOCK_EX);
          return () => flockSync(fd, LOCK_UN);
        },
        close: () => closeSync(fd),
      };
    }
    case 'memhub': {
      // Default options, as an application would use it (10 s timeout: a bench that hits it fails loudly).
      const lock = openLock(lockPath, { purpose: 'bench contender' });
      return {
        async acquire() {
          const held = await lock.acquire();
          return () => held.release();
        },
        close: () => lock.close(),
      };
    }
    case 'proper-lockfile':
      return {
        acquire: () => properLockfile.lock(lockPath, PROPER_LOCKFILE_CONTENDED_OPTIONS),
        close() {},
      };
  }
}

/** Keeps this process busy (outside the lock) for `microseconds`, like work done between two holds. */
function spin(microseconds: number): void {
  const until = hrtime.bigint() + BigInt(Math.round(microseconds * 1000));
  while (hrtime.bigint() < until) {
    // busy: a sleep would round up to a whole millisecond timer tick
  }
}

async function runRound(contender: Contender, counter: CounterFile, cycles: number, thinkUs: number): Promise<RoundReport> {
  const waitsUs: number[] = [];
  let crossProcess = 0;
  for (let cycle = 0; cycle < cycles; cycle += 1) {
    const start = hrtime.bigint();
    const pending = contender.acquire();
    const release = pending instanceof Promise ? await pending : pending;
    waitsUs.push(Math.round(Number(hrtime.bigint() - start) / 100) / 10);
    try {
      // The critical section: a read-modify-write that loses updates unless the lock excludes.
      const { writerPid } = counter.increment();
      if (writerPid !== 0 && writerPid !== process.pid) crossProcess += 1;
    } finally {
      await release();
    }
    if (thinkUs > 0) spin(thinkUs);
  }
  return { pid: process.pid, cycles, crossProcess, waitsUs };
}

async function main(): Promise<void> {
  const [kind = '', lockPath, counterPath] = process.argv.slice(2);
  if (lockPath === undefined || counterPath === undefined) {
    throw new Error('usage: contender.ts <flock|memhub|proper-lockfile> <lock-file> <counter-file>');
  }
  const contender = openContender(kind, lockPath);
  const commands = createInterface({ input: process.stdin });
  process.stdout.write(`${READY_LINE}\n`);
  try {
    for await (const line of commands) {
      if (line === EXIT_LINE) break;
      if (!line.startsWith(GO_PREFIX)) throw new Error(`unexpected command "${line}"`);
      const [cycles = Number.NaN, thinkUs = 0] = line.slice(GO_PREFIX.length).split(' ').map(Number);
      if (!Number.isInteger(cycles) || cycles < 0 || !(thinkUs >= 0)) throw new Error(`bad command "${line}"`);
      // The parent resets the counter file before each round, so it is opened afresh each time.
      const counter = CounterFile.open(counterPath);
      let report: RoundReport;
      try {
        report = await runRound(contender, counter, cycles, thinkUs);
      } finally {
        counter.close();
      }
      process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(report)}\n`);
    }
  } finally {
    commands.close();
    contender.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`contender ${process.pid} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
