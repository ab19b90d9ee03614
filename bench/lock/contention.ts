import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ContenderKind, RoundReport } from './contender-protocol.js';
import { ContenderProcess } from './contender-process.js';
import { CounterFile } from './counter-file.js';
import { median, percentileOfSorted } from '../shared/statistics.js';

export interface ContentionOptions {
  readonly processes: number;
  /** Acquire/increment/release cycles each process runs per round. */
  readonly cyclesPerProcess: number;
  /** Measured rounds; one shorter unmeasured round runs first to warm the JIT and the files. */
  readonly rounds: number;
  readonly warmupCyclesPerProcess: number;
  /**
   * Busy time outside the lock after each release. 0 (the default) is a tight loop, in which the
   * releasing process usually takes the lock straight back; some think time makes it move.
   */
  readonly thinkUs: number;
  /** How long a child may take to start (tsx compiles on the fly) and to finish a round. */
  readonly startTimeoutMs: number;
  readonly roundTimeoutMs: number;
}

export interface ContentionResult {
  readonly kind: ContenderKind;
  readonly processes: number;
  readonly cyclesPerProcess: number;
  /** Lock acquisitions completed per second by all processes together, per measured round. */
  readonly handOffsPerSecond: readonly number[];
  readonly medianHandOffsPerSecond: number;
  /** Acquisitions in which the lock came from another process, not back to the one that had just released it. */
  readonly crossProcessHandOffs: number;
  /** crossProcessHandOffs as a share of all acquisitions. */
  readonly crossProcessShare: number;
  /** Wait per acquisition over every measured round and process, in microseconds. */
  readonly waitUs: { readonly p50: number; readonly p99: number; readonly max: number };
  /** Counter values summed over the measured rounds; equal when no update was lost. */
  readonly counter: { readonly expected: number; readonly actual: number };
  /** Why the run stopped early, when it did. */
  readonly failure: string | undefined;
}

interface RoundOutcome {
  readonly reports: readonly RoundReport[];
  readonly elapsedMs: number;
  readonly counter: number;
}

/**
 * Starts `processes` contender children on one fresh lock file and counter, waits until all have
 * loaded (so start-up is not timed), then plays the rounds: every child gets `go` at once and the
 * round lasts until the last child reports. Throughput is the parent's view of that wall time.
 */
export async function runContention(
  kind: ContenderKind,
  folder: string,
  options: ContentionOptions,
): Promise<ContentionResult> {
  const lockPath = join(folder, `contended-${kind}.lock`);
  const counterPath = join(folder, `contended-${kind}.counter`);
  // proper-lockfile guards an existing file (it resolves its real path); the others open it anyway.
  writeFileSync(lockPath, '');
  const children = Array.from({ length: options.processes }, () => new ContenderProcess(kind, lockPath, counterPath));
  const rounds: RoundOutcome[] = [];
  let failure: string | undefined;
  try {
    await Promise.all(children.map((child) => child.ready(options.startTimeoutMs)));
    await playRound(children, counterPath, options.warmupCyclesPerProcess, options);
    for (let round = 0; round < options.rounds; round += 1) {
      rounds.push(await playRound(children, counterPath, options.cyclesPerProcess, options));
    }
  } catch (error) {
    failure = error instanceof Error ? error.message : String(error);
    for (const child of children) child.kill();
  } finally {
    await Promise.all(children.map((child) => child.stop()));
  }
  return summarise(kind, options, rounds, failure);
}

async function playRound(
  children: readonly ContenderProcess[],
  counterPath: string,
  cycles: number,
  { thinkUs, roundTimeoutMs }: ContentionOptions,
): Promise<RoundOutcome> {
  CounterFile.reset(counterPath);
  const start = performance.now();
  for (const child of children) child.go(cycles, thinkUs);
  const reports = await Promise.all(children.map((child) => child.result(roundTimeoutMs)));
  const elapsedMs = performance.now() - start;
  const counter = CounterFile.open(counterPath);
  try {
    return { reports, elapsedMs, counter: counter.read().count };
  } finally {
    counter.close();
  }
}

function summarise(
  kind: ContenderKind,
  options: ContentionOptions,
  rounds: readonly RoundOutcome[],
  failure: string | undefined,
): ContentionResult {
  const reports = rounds.flatMap((round) => round.reports);
  const cycles = reports.reduce((sum, report) => sum + report.cycles, 0);
  const crossProcess = reports.reduce((sum, report) => sum + report.crossProcess, 0);
  const waits = reports.flatMap((report) => report.waitsUs).sort((a, b) => a - b);
  const handOffsPerSecond = rounds.map(
    (round) => round.reports.reduce((sum, report) => sum + report.cycles, 0) / (round.elapsedMs / 1000),
  );
  return {
    kind,
    processes: options.processes,
    cyclesPerProcess: options.cyclesPerProcess,
    handOffsPerSecond,
    medianHandOffsPerSecond: median(handOffsPerSecond),
    crossProcessHandOffs: crossProcess,
    crossProcessShare: cycles === 0 ? Number.NaN : crossProcess / cycles,
    waitUs: {
      p50: percentileOfSorted(waits, 50),
      p99: percentileOfSorted(waits, 99),
      max: waits.length === 0 ? Number.NaN : (waits[waits.length - 1] as number),
    },
    counter: {
      expected: rounds.length * options.processes * options.cyclesPerProcess,
      actual: rounds.reduce((sum, round) => sum + round.counter, 0),
    },
    failure,
  };
}
