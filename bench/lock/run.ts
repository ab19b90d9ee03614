/**
 * `pnpm bench:lock`: how fast @memhub/lock takes and gives back a lock, next to the bare flock(2)
 * it is built on and to proper-lockfile, all measured in this one run on this one machine.
 * Not a test: nothing here asserts a time. Only a lost counter update (a broken lock) makes the
 * exit code non-zero. See ../README.md for what each row means.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CONTENDER_KINDS, type ContenderKind } from './contender-protocol.js';
import { runContention, type ContentionResult } from './contention.js';
import { describeMachine } from '../shared/machine.js';
import { measureThroughput, type ThroughputResult } from './measure-throughput.js';
import { formatCount, formatMicroseconds, formatPercent, formatRatio } from '../shared/number-format.js';
import { formatTable } from '../shared/text-table.js';
import { scriptArguments } from '../shared/script-arguments.js';
import { createUncontendedCases, type UncontendedCase, type UncontendedCaseId } from './uncontended-cases.js';

const { values: flags } = parseArgs({
  args: scriptArguments(),
  options: {
    repetitions: { type: 'string', default: '5' },
    'repetition-ms': { type: 'string', default: '500' },
    'warmup-ms': { type: 'string', default: '300' },
    processes: { type: 'string', default: '4' },
    cycles: { type: 'string', default: '5000' },
    'proper-lockfile-cycles': { type: 'string', default: '50' },
    rounds: { type: 'string', default: '3' },
    'think-us': { type: 'string', default: '0' },
  },
});

function positiveInteger(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} must be a positive integer, got "${text}"`);
  return value;
}

function nonNegativeInteger(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw new Error(`--${name} must be 0 or a positive integer, got "${text}"`);
  return value;
}

const settings = {
  repetitions: positiveInteger('repetitions', flags.repetitions),
  repetitionMs: positiveInteger('repetition-ms', flags['repetition-ms']),
  warmupMs: positiveInteger('warmup-ms', flags['warmup-ms']),
  processes: positiveInteger('processes', flags.processes),
  cycles: positiveInteger('cycles', flags.cycles),
  properLockfileCycles: positiveInteger('proper-lockfile-cycles', flags['proper-lockfile-cycles']),
  rounds: positiveInteger('rounds', flags.rounds),
  thinkUs: nonNegativeInteger('think-us', flags['think-us']),
};

/** Progress goes to stderr, so that stdout holds only the report. */
const progress = (message: string) => process.stderr.write(`  .. ${message}\n`);

/**
 * Cycles per process for each contender. proper-lockfile hands off about a hundred times a second
 * (each hand-off is a mkdir/rmdir pair plus retry sleeps), so it gets fewer cycles to stay within
 * the time budget; the rates stay comparable because they are per second.
 */
function cyclesFor(kind: ContenderKind): number {
  return kind === 'proper-lockfile' ? settings.properLockfileCycles : settings.cycles;
}

const CONTENDER_LABELS: Record<ContenderKind, string> = {
  flock: 'bare blocking flockSync(fd, LOCK_EX) (floor)',
  memhub: 'memhub await acquire() + release()',
  'proper-lockfile': 'proper-lockfile await lock() + release(), retrying',
};

function resultsById(
  cases: readonly UncontendedCase[],
  results: readonly ThroughputResult[],
): ReadonlyMap<UncontendedCaseId, ThroughputResult> {
  const byId = new Map<UncontendedCaseId, ThroughputResult>();
  for (const [index, testCase] of cases.entries()) {
    const result = results[index];
    if (result !== undefined) byId.set(testCase.id, result);
  }
  return byId;
}

function uncontendedTable(cases: readonly UncontendedCase[], results: readonly ThroughputResult[]): string {
  const byId = resultsById(cases, results);
  const floorNs = byId.get('a')?.medianNsPerOp ?? Number.NaN;
  const rows = cases.map((testCase, index) => {
    const result = results[index];
    if (result === undefined) return [testCase.id, testCase.name];
    const peer = testCase.properLockfilePeer === undefined ? undefined : byId.get(testCase.properLockfilePeer);
    return [
      testCase.id,
      testCase.name,
      formatCount(result.medianOpsPerSecond),
      formatCount(result.medianNsPerOp),
      formatRatio(result.medianNsPerOp / floorNs),
      peer === undefined ? '' : `${formatRatio(peer.medianNsPerOp / result.medianNsPerOp)} (vs ${testCase.properLockfilePeer})`,
      `±${formatPercent(result.spread / 2)}`,
    ];
  });
  return formatTable(
    [
      { heading: '', align: 'left' },
      { heading: 'acquire + release, lock free, 1 process', align: 'left' },
      { heading: 'ops/s', align: 'right' },
      { heading: 'ns/op', align: 'right' },
      { heading: 'time vs a', align: 'right' },
      { heading: 'memhub faster by', align: 'right' },
      { heading: 'spread', align: 'right' },
    ],
    rows,
  );
}

function contentionTable(results: readonly ContentionResult[]): string {
  const floor = results.find((result) => result.kind === 'flock')?.medianHandOffsPerSecond ?? Number.NaN;
  const rows = results.map((result) => [
    CONTENDER_LABELS[result.kind],
    `${result.processes} x ${formatCount(result.cyclesPerProcess)}`,
    result.failure === undefined ? formatCount(result.medianHandOffsPerSecond) : 'failed',
    result.failure === undefined ? formatRatio(result.medianHandOffsPerSecond / floor) : '-',
    `${formatCount(result.crossProcessHandOffs)} (${formatPercent(result.crossProcessShare)})`,
    formatMicroseconds(result.waitUs.p50),
    formatMicroseconds(result.waitUs.p99),
    formatMicroseconds(result.waitUs.max),
    `${counterVerdict(result)} ${formatCount(result.counter.actual)}/${formatCount(result.counter.expected)}`,
  ]);
  return formatTable(
    [
      { heading: 'contenders (each in its own process)', align: 'left' },
      { heading: 'cycles', align: 'right' },
      { heading: 'hand-offs/s', align: 'right' },
      { heading: 'vs floor', align: 'right' },
      { heading: 'to other process', align: 'right' },
      { heading: 'wait p50', align: 'right' },
      { heading: 'wait p99', align: 'right' },
      { heading: 'wait max', align: 'right' },
      { heading: 'counter', align: 'right' },
    ],
    rows,
  );
}

function counterVerdict(result: ContentionResult): 'OK' | 'FAIL' {
  return result.failure === undefined && result.counter.actual === result.counter.expected ? 'OK' : 'FAIL';
}

function summaryLine(
  uncontended: ReadonlyMap<UncontendedCaseId, ThroughputResult>,
  contended: readonly ContentionResult[],
): string {
  const ns = (id: UncontendedCaseId) => uncontended.get(id)?.medianNsPerOp ?? Number.NaN;
  const handOffs = contended
    .map((result) => `${result.kind} ${result.failure === undefined ? formatCount(result.medianHandOffsPerSecond) : 'failed'}`)
    .join(', ');
  return (
    `memhub sync acquire+release = ${formatRatio(ns('b') / ns('a'))} bare flock; ` +
    `memhub vs proper-lockfile: ${formatRatio(ns('e1') / ns('b'))} faster (sync; async ${formatRatio(ns('e2') / ns('c'))}); ` +
    `${settings.processes}-process hand-offs/s: ${handOffs}`
  );
}

async function main(): Promise<void> {
  const folder = mkdtempSync(join(tmpdir(), 'memhub-bench-lock-'));
  try {
    console.log('memhub lock benchmark');
    for (const line of describeMachine(folder)) console.log(line);
    console.log('');

    const uncontended = createUncontendedCases(folder);
    let results: ThroughputResult[];
    try {
      const seconds = (uncontended.cases.length * (settings.warmupMs + settings.repetitions * settings.repetitionMs)) / 1000;
      progress(`single process: ${uncontended.cases.length} rows, about ${Math.ceil(seconds)} s`);
      results = await measureThroughput(
        uncontended.cases,
        { warmupMs: settings.warmupMs, repetitionMs: settings.repetitionMs, repetitions: settings.repetitions, batchMs: 2 },
        progress,
      );
    } finally {
      uncontended.close();
    }
    console.log(
      `1. Uncontended, single process (median of ${settings.repetitions} interleaved repetitions of ` +
        `${settings.repetitionMs} ms each, after ${settings.warmupMs} ms warm-up)`,
    );
    console.log(uncontendedTable(uncontended.cases, results));
    console.log('');

    const contended: ContentionResult[] = [];
    for (const kind of CONTENDER_KINDS) {
      progress(`${settings.processes} processes contending: ${kind}`);
      const result = await runContention(kind, folder, {
        processes: settings.processes,
        cyclesPerProcess: cyclesFor(kind),
        rounds: settings.rounds,
        warmupCyclesPerProcess: Math.max(1, Math.round(cyclesFor(kind) / 5)),
        thinkUs: settings.thinkUs,
        startTimeoutMs: 30_000,
        roundTimeoutMs: 60_000,
      });
      contended.push(result);
      if (result.failure !== undefined) console.error(`${kind} contention failed: ${result.failure}`);
    }
    console.log(
      `2. Contended hand-off: ${settings.processes} processes, one lock file, each cycle = acquire, ` +
        `increment a counter file, release` +
        (settings.thinkUs > 0 ? `, then ${settings.thinkUs} us busy outside the lock` : ' (tight loop)') +
        ` (median of ${settings.rounds} rounds; waits over all rounds)`,
    );
    console.log(contentionTable(contended));
    console.log('');

    console.log(summaryLine(resultsById(uncontended.cases, results), contended));
    if (contended.some((result) => counterVerdict(result) === 'FAIL')) process.exitCode = 1;
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

await main();
