/**
 * `pnpm soak`: memhub under a steady load for a long time (10 minutes by default), to show what
 * short tests cannot: whether throughput drifts down, whether any process's memory grows, whether
 * the WAL stays bounded while readers never stop, and whether the store verifies clean after it
 * all. Not part of `pnpm test`. See ../README.md.
 *
 * 8 processes (soak/worker.ts) remember and recall on one store and forget their oldest records,
 * so the store keeps a steady size. The parent reads each one's ticks and samples the WAL's size
 * with stat (never opening it); at the end it verifies the store and prints a report.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { openStore } from '@memhub/store';
import Database from 'better-sqlite3';
import { LineChild } from '../shared/line-child.js';
import { GO_PREFIX, RESULT_PREFIX } from '../shared/line-protocol.js';
import { describeMachine } from '../shared/machine.js';
import { formatCount } from '../shared/number-format.js';
import { median } from '../shared/statistics.js';
import { formatTable } from '../shared/text-table.js';
import { scriptArguments } from '../shared/script-arguments.js';
import type { SoakResult, SoakTick, SoakWorkerSpec } from './worker.js';

const { values: flags } = parseArgs({
  args: scriptArguments(),
  options: {
    minutes: { type: 'string', default: '10' },
    processes: { type: 'string', default: '8' },
    'in-flight': { type: 'string', default: '4' },
    keep: { type: 'string', default: '2000' },
    'wal-checkpoint-mib': { type: 'string', default: '32' },
  },
});
const settings = {
  durationMs: Number(flags.minutes) * 60_000,
  processes: Number(flags.processes),
  inFlight: Number(flags['in-flight']),
  keep: Number(flags.keep),
  walCheckpointBytes: Number(flags['wal-checkpoint-mib']) * 1024 * 1024,
};
/** The option each setting comes from, for the message about a bad value. */
const OPTION_OF: Record<keyof typeof settings, string> = {
  durationMs: 'minutes',
  processes: 'processes',
  inFlight: 'in-flight',
  keep: 'keep',
  walCheckpointBytes: 'wal-checkpoint-mib',
};
for (const [name, value] of Object.entries(settings) as [keyof typeof settings, number][]) {
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${OPTION_OF[name]} must be a positive number`);
}

const WORKER_ENTRY = fileURLToPath(new URL('./worker.ts', import.meta.url));
const MINUTE_MS = 60_000;
/** Throughput is judged without the first minute (JIT, caches, the store filling up to its steady size). */
const WARM_UP_MS = Math.min(MINUTE_MS, settings.durationMs / 5);

interface Sample {
  readonly elapsedMs: number;
  readonly tick: SoakTick;
}

async function main(): Promise<void> {
  const folder = mkdtempSync(join(tmpdir(), 'memhub-soak-'));
  const dir = join(folder, 'store');
  const samples: Sample[][] = Array.from({ length: settings.processes }, () => []);
  const walSamples: { elapsedMs: number; bytes: number }[] = [];
  const children: LineChild[] = [];
  let exitCode = 0;
  try {
    console.log(`memhub soak: ${settings.processes} processes x ${settings.inFlight} in flight, ${flags.minutes} min`);
    for (const line of describeMachine(folder)) console.log(line);
    await (await openStore({ dir })).close();
    for (let worker = 0; worker < settings.processes; worker += 1) {
      const spec: SoakWorkerSpec = { dir, worker, inFlight: settings.inFlight, keep: settings.keep, walCheckpointBytes: settings.walCheckpointBytes };
      children.push(new LineChild('soak worker', WORKER_ENTRY, [JSON.stringify(spec)]));
    }
    await Promise.all(children.map((child) => child.ready(120_000)));
    const started = Date.now();
    for (const child of children) child.send(`${GO_PREFIX}${settings.durationMs}`);
    const walTimer = setInterval(() => {
      walSamples.push({ elapsedMs: Date.now() - started, bytes: statSync(join(dir, 'memory.db-wal'), { throwIfNoEntry: false })?.size ?? 0 });
    }, 1_000);
    const progress = setInterval(() => {
      const minute = Math.floor((Date.now() - started) / MINUTE_MS);
      process.stderr.write(`  .. ${minute} min\n`);
    }, MINUTE_MS);
    const results: SoakResult[] = [];
    await Promise.all(
      children.map(async (child, worker) => {
        const until = started + settings.durationMs;
        let asked = false;
        for (;;) {
          if (!asked && Date.now() >= until) {
            child.send('exit');
            asked = true;
          }
          const line = await child.nextLine(60_000);
          if (line.startsWith('tick ')) {
            const tick = JSON.parse(line.slice(5)) as SoakTick;
            (samples[worker] as Sample[]).push({ elapsedMs: tick.at - started, tick });
          } else if (line.startsWith(RESULT_PREFIX)) {
            results.push(JSON.parse(line.slice(RESULT_PREFIX.length)) as SoakResult);
            return;
          }
        }
      }),
    );
    clearInterval(walTimer);
    clearInterval(progress);
    await Promise.all(children.map((child) => child.stop(30_000)));

    const store = await openStore({ dir });
    const report = await store.verify();
    const stats = await store.stats();
    await store.close();
    exitCode = printReport(samples, walSamples, results, report.ok, report.problems.map((problem) => problem.message), stats.records, pageCacheBytes(dir));
  } finally {
    for (const child of children) child.kill();
    rmSync(folder, { recursive: true, force: true });
  }
  process.exitCode = exitCode;
}

/**
 * The most a connection's SQLite page cache holds, as memhub's connections have it (memhub leaves
 * cache_size at the build's default: better-sqlite3's is 16,000 KiB): read from a connection of
 * our own, after the workers closed theirs.
 */
function pageCacheBytes(dir: string): number {
  const db = new Database(join(dir, 'memory.db'), { readonly: true, fileMustExist: true });
  try {
    const cacheSize = Number(db.pragma('cache_size', { simple: true }));
    return cacheSize < 0 ? -cacheSize * 1024 : cacheSize * Number(db.pragma('page_size', { simple: true }));
  } finally {
    db.close();
  }
}

/** Prints the report and returns the exit code: 1 when a call failed or the store does not verify clean. */
function printReport(
  samples: readonly Sample[][],
  walSamples: readonly { elapsedMs: number; bytes: number }[],
  results: readonly SoakResult[],
  verified: boolean,
  problems: readonly string[],
  records: number,
  pageCache: number,
): number {
  const pageCacheMiB = (pageCache / 1024 / 1024).toFixed(1);
  const minutes = Math.floor(settings.durationMs / MINUTE_MS);
  const totalsAt = (worker: readonly Sample[], ms: number) => [...worker].reverse().find((sample) => sample.elapsedMs <= ms)?.tick;
  const rows: string[][] = [];
  const perMinute: number[] = [];
  for (let minute = 0; minute < minutes; minute += 1) {
    let operations = 0;
    let slowest = 0;
    const rss: number[] = [];
    const heap: number[] = [];
    for (const worker of samples) {
      const from = totalsAt(worker, minute * MINUTE_MS);
      const to = totalsAt(worker, (minute + 1) * MINUTE_MS);
      if (to === undefined) continue;
      const count = (tick: SoakTick | undefined) => (tick === undefined ? 0 : tick.remembers + tick.recalls + tick.forgets);
      operations += count(to) - count(from);
      for (const sample of worker) {
        if (sample.elapsedMs > minute * MINUTE_MS && sample.elapsedMs <= (minute + 1) * MINUTE_MS) {
          slowest = Math.max(slowest, sample.tick.slowestMs);
          rss.push(sample.tick.rssBytes);
          heap.push(sample.tick.heapBytes);
        }
      }
    }
    const wal = walSamples.filter((sample) => sample.elapsedMs > minute * MINUTE_MS && sample.elapsedMs <= (minute + 1) * MINUTE_MS);
    perMinute.push(operations / 60);
    rows.push([
      String(minute + 1),
      formatCount(operations / 60),
      `${Math.round(slowest)} ms`,
      `${(median(rss) / 1024 / 1024).toFixed(0)} MiB`,
      `${(median(heap) / 1024 / 1024).toFixed(1)} MiB`,
      `${(Math.max(0, ...wal.map((sample) => sample.bytes)) / 1024 / 1024).toFixed(1)} MiB`,
    ]);
  }
  console.log('');
  console.log(
    formatTable(
      [
        { heading: 'minute', align: 'right' },
        { heading: 'operations/s (all processes)', align: 'right' },
        { heading: 'slowest call', align: 'right' },
        { heading: 'RSS per process (median)', align: 'right' },
        { heading: 'JS heap used (median)', align: 'right' },
        { heading: 'WAL (largest)', align: 'right' },
      ],
      rows,
    ),
  );

  // Throughput trend: least-squares slope of operations/s over the minutes after the warm-up, as a
  // share of their mean per minute. Only a fall fails it: a store that gets faster as its caches
  // fill is stable in the sense that matters.
  const judged = perMinute.slice(Math.ceil(WARM_UP_MS / MINUTE_MS));
  const mean = judged.reduce((sum, value) => sum + value, 0) / judged.length;
  const xMean = (judged.length - 1) / 2;
  const slope =
    judged.reduce((sum, value, index) => sum + (index - xMean) * (value - mean), 0) / judged.reduce((sum, _value, index) => sum + (index - xMean) ** 2, 0);
  const trend = slope / mean;
  // Memory: each process's RSS in the last minute against the minute half-way through the run.
  // Bounded caches fill first (start-up garbage is returned, and each connection's SQLite page
  // cache, PRAGMA cache_size, grows as the database is read up to its limit): what must not grow
  // is what comes after. A leak keeps growing in the second half; a cache does not.
  const halfWay = Math.floor(minutes / 2);
  const rssGrowth = samples.map((worker) => {
    const minuteMedian = (minute: number) => {
      const inMinute = worker.filter((sample) => sample.elapsedMs > minute * MINUTE_MS && sample.elapsedMs <= (minute + 1) * MINUTE_MS);
      return inMinute.length === 0 ? Number.NaN : median(inMinute.map((sample) => sample.tick.rssBytes));
    };
    return minuteMedian(minutes - 1) / minuteMedian(halfWay - 1) - 1;
  });
  const largestWal = Math.max(0, ...walSamples.map((sample) => sample.bytes));
  const errors = samples.reduce((sum, worker) => sum + (worker.at(-1)?.tick.errors ?? 0), 0);
  const checkpoints = results.reduce((sum, result) => ({ completed: sum.completed + result.checkpoints.completed, starved: sum.starved + result.checkpoints.starved }), { completed: 0, starved: 0 });
  const verdict = (ok: boolean) => (ok ? 'yes' : 'NO');
  console.log('');
  console.log(
    `throughput stable (trend after the first ${Math.round(WARM_UP_MS / 1000)} s not falling by more than 2% a minute): ` +
      (judged.length < 2 ? 'not measured (run 3 minutes or more)' : `${verdict(trend > -0.02)} (${(trend * 100).toFixed(2)}% a minute)`),
  );
  console.log(
    `memory flat (each process's RSS in the last minute < 10% above minute ${halfWay}; each connection's SQLite page cache may fill up to ${pageCacheMiB} MiB before): ` +
      (minutes < 4
        ? 'not measured (run 4 minutes or more)'
        : `${verdict(rssGrowth.every((growth) => growth < 0.1))} (${rssGrowth.map((growth) => `${(growth * 100).toFixed(0)}%`).join(', ')})`),
  );
  console.log(
    `WAL bounded (largest ${(largestWal / 1024 / 1024).toFixed(1)} MiB, truncate threshold ${flags['wal-checkpoint-mib']} MiB): ` +
      `${verdict(largestWal <= settings.walCheckpointBytes * 2)}; TRUNCATE checkpoints ${checkpoints.completed} completed, ${checkpoints.starved} starved`,
  );
  console.log(`calls that failed: ${errors}${results.find((result) => result.firstError !== undefined)?.firstError ? ` (first: ${results.find((result) => result.firstError !== undefined)?.firstError})` : ''}`);
  console.log(`verify() at the end: ${verified ? 'clean' : `PROBLEMS: ${problems.join('; ')}`} (${formatCount(records)} records)`);
  return errors === 0 && verified ? 0 : 1;
}

await main();
