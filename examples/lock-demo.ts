// The lock at work between processes.
//
//   pnpm start            (from the repository root)
//
// Six processes each add 200 to one counter file by read-modify-write, holding @memhub/lock's
// exclusive lock around every increment: the total comes out exact. Then the same without the
// lock, to show the lost updates the lock prevents. Then a holder that is killed with SIGKILL,
// and what a waiter sees: a timeout that names the holder, then the lock free the moment the
// kernel drops the dead holder's flock.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { LockTimeoutError, lockStatus, openLock, type LockMetricsSnapshot } from '@memhub/lock';

const PROCESSES = 6;
const INCREMENTS = 200;

interface WorkerReport {
  pid: number;
  metrics: LockMetricsSnapshot;
}

/** Child role: increments the counter, with or without the lock, and reports its lock metrics. */
async function incrementCounter(dir: string, useLock: boolean): Promise<void> {
  const counter = join(dir, 'counter');
  const lock = openLock(join(dir, 'counter.lock'), { purpose: `demo increment (pid ${process.pid})` });
  const increment = async () => {
    const value = Number(readFileSync(counter, 'utf8') || '0');
    await sleep(0.2); // a little work between the read and the write, as real code has
    writeFileSync(counter, String(value + 1));
  };
  for (let i = 0; i < INCREMENTS; i += 1) {
    if (useLock) await lock.withLock(increment);
    else await increment();
  }
  const report: WorkerReport = { pid: process.pid, metrics: lock.metrics() };
  console.log(JSON.stringify(report));
  lock.close();
}

/** Child role: takes the lock and keeps it until killed. */
async function holdForever(dir: string): Promise<void> {
  const lock = openLock(join(dir, 'counter.lock'), { purpose: 'nightly re-index' });
  await lock.acquire();
  console.log('held');
  setInterval(() => {}, 60_000);
}

function runChild(role: string, dir: string, useLock = true) {
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), role, dir, String(useLock)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<string>((resolve) => child.on('exit', () => resolve(output)));
  return { child, exited, output: () => output };
}

async function race(dir: string, useLock: boolean): Promise<{ total: number; reports: WorkerReport[]; ms: number }> {
  writeFileSync(join(dir, 'counter'), '0');
  const started = performance.now();
  const outputs = await Promise.all(
    Array.from({ length: PROCESSES }, () => runChild('increment', dir, useLock).exited),
  );
  const reports = outputs.map((text) => JSON.parse(text.trim()) as WorkerReport);
  return { total: Number(readFileSync(join(dir, 'counter'), 'utf8')), reports, ms: performance.now() - started };
}

function printTable(reports: WorkerReport[]): void {
  const rows = reports.map(({ pid, metrics }) => [
    String(pid),
    String(metrics.acquisitions),
    String(metrics.contended),
    metrics.wait.p50.toFixed(2),
    metrics.wait.p99.toFixed(2),
    metrics.wait.max.toFixed(2),
    metrics.hold.p50.toFixed(2),
  ]);
  const header = ['pid', 'acquired', 'contended', 'wait p50 ms', 'wait p99 ms', 'wait max ms', 'hold p50 ms'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) => cells.map((cell, column) => cell.padStart(widths[column]!)).join('  ');
  console.log(`  ${line(header)}`);
  for (const row of rows) console.log(`  ${line(row)}`);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'memhub-lock-demo-'));
  try {
    const expected = PROCESSES * INCREMENTS;
    console.log(`${PROCESSES} processes x ${INCREMENTS} read-modify-write increments of one counter file\n`);

    const locked = await race(dir, true);
    console.log(`with @memhub/lock:    ${locked.total} / ${expected}  (${locked.ms.toFixed(0)} ms)`);
    printTable(locked.reports);
    const unlocked = await race(dir, false);
    console.log(`\nwithout a lock:       ${unlocked.total} / ${expected}  (${expected - unlocked.total} updates lost)\n`);

    console.log('a holder that dies:');
    const lockPath = join(dir, 'counter.lock');
    const holder = runChild('hold', dir);
    while (!holder.output().includes('held')) await sleep(10);
    const lock = openLock(lockPath, { purpose: 'demo waiter' });
    try {
      await lock.acquire({ timeoutMs: 300 });
    } catch (error) {
      if (!(error instanceof LockTimeoutError)) throw error;
      console.log(`  waiter: ${error.message}`);
    }
    holder.child.kill('SIGKILL');
    await holder.exited;
    const status = lockStatus(lockPath);
    console.log(
      `  after kill -9 of pid ${holder.child.pid}: the lock is ${status.state}; ` +
        `its record names pid ${status.lastHolder?.pid} (${status.staleMetadata ? 'stale: that process is gone' : 'alive'})`,
    );
    const started = performance.now();
    const held = await lock.acquire({ timeoutMs: 5_000 });
    console.log(`  the waiter got the lock ${(performance.now() - started).toFixed(1)} ms later`);
    held.release();
    lock.close();

    const ok = locked.total === expected;
    console.log(ok ? '\nOK: no update was lost under the lock.' : '\nFAIL: the locked count is wrong.');
    if (!ok) process.exitCode = 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const [role, dir, useLock] = process.argv.slice(2);
if (role === 'increment' && dir !== undefined) await incrementCounter(dir, useLock === 'true');
else if (role === 'hold' && dir !== undefined) await holdForever(dir);
else await main();
