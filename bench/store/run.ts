/**
 * `pnpm bench:store`: how fast @memhub/store's remember() writes from 1, 2, 4 and 8 processes,
 * next to what bare better-sqlite3 does on the same kind of WAL database, all measured in this
 * one run on this one machine. Not a test: nothing here asserts a time. Only a store that does
 * not hold exactly the records written (or a writer that fails) makes the exit code non-zero.
 * See ../README.md for what each row means.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { describeMachine } from '../shared/machine.js';
import { formatCount, formatMicroseconds, formatRatio } from '../shared/number-format.js';
import { formatTable } from '../shared/text-table.js';
import { scriptArguments } from '../shared/script-arguments.js';
import { writeStoreChart } from './chart.js';
import { measurePairedRounds, pairedRoundsTable, pairedVerdict, type PairedRound } from './paired-rounds.js';
import { DEFAULT_POSTGRES_URL } from './postgres-target.js';
import { CONTENT_BYTES } from './records.js';
import { runRow, type RowId, type RowPlan, type RowResult } from './rows.js';

const { values: flags } = parseArgs({
  args: scriptArguments(),
  options: {
    processes: { type: 'string', default: '1,2,4,8' },
    records: { type: 'string', default: '3000' },
    'naive-records': { type: 'string' },
    'in-flight-records': { type: 'string', default: '10000' },
    'ceiling-records': { type: 'string', default: '100000' },
    'warmup-records': { type: 'string', default: '500' },
    'in-flight': { type: 'string', default: '64' },
    /**
     * Back-to-back pairs of each throughput target's rows (2 at P=4 and 3b; 1 and 3c at P=4),
     * measured after the main pass; their median ratio is the verdict. 0: none.
     */
    rounds: { type: 'string', default: '5' },
    batch: { type: 'string', default: '1000' },
    'busy-timeout-ms': { type: 'string', default: '5000' },
    /** Where the SVG chart of the run goes ('' for none), relative to the bench folder. */
    chart: { type: 'string', default: 'results/store.svg' },
    engine: { type: 'string', default: 'sqlite' },
    'postgres-url': { type: 'string', default: DEFAULT_POSTGRES_URL },
    /** Busy-loop processes that run beside the writers for the whole run: a machine also busy with other work. */
    load: { type: 'string', default: '0' },
  },
});

if (flags.engine !== 'sqlite' && flags.engine !== 'postgres') throw new Error(`--engine must be sqlite or postgres, got "${flags.engine}"`);
/** With `--engine postgres`, rows 1 and 2 also run on PostgreSQL (1pg, 2pg), beside the SQLite rows. */
const withPostgres = flags.engine === 'postgres';

function positiveInteger(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} must be a positive integer, got "${text}"`);
  return value;
}

function countOf(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw new Error(`--${name} must be a whole number (0 or more), got "${text}"`);
  return value;
}

const settings = {
  processes: [...new Set(flags.processes.split(',').map((text) => positiveInteger('processes', text.trim())))].sort(
    (a, b) => a - b,
  ),
  records: positiveInteger('records', flags.records),
  naiveRecords: positiveInteger('naive-records', flags['naive-records'] ?? flags.records),
  inFlightRecords: positiveInteger('in-flight-records', flags['in-flight-records']),
  ceilingRecords: positiveInteger('ceiling-records', flags['ceiling-records']),
  warmupRecords: positiveInteger('warmup-records', flags['warmup-records']),
  inFlight: positiveInteger('in-flight', flags['in-flight']),
  rounds: countOf('rounds', flags.rounds),
  batch: positiveInteger('batch', flags.batch),
  busyTimeoutMs: positiveInteger('busy-timeout-ms', flags['busy-timeout-ms']),
  load: countOf('load', flags.load),
};

/**
 * The targets: 64 in flight at this P against ceiling 3b; one at a time at this P against the
 * naive peer 3c's throughput; and the tail of one-at-a-time at this P against 3c's.
 */
const TARGET_THROUGHPUT = { processes: 4, atLeast: 0.7 };
const TARGET_ONE_AT_A_TIME = { processes: 4, atLeast: 1.0 };
const TARGET_MAX_LATENCY = { processes: 8, below: 0.1 };
/** With many in flight, the JSONL mirror costs at most this share of the throughput without it. */
const TARGET_MIRROR_COST = { atMost: 0.25 };

/** How long a row's writers may take to start and write their warm-up, and to write their records. */
const ROW_TIMEOUTS = { startMs: 120_000, runMs: 300_000 };

/** Progress goes to stderr, so that stdout holds only the report. */
const progress = (message: string) => process.stderr.write(`  .. ${message}\n`);

const ROW_LABELS: Record<RowId, string> = {
  '1': 'memhub remember(), one at a time',
  '1n': 'memhub remember(), one at a time, mirror off',
  '2': `memhub remember(), ${settings.inFlight} in flight`,
  '2n': `memhub remember(), ${settings.inFlight} in flight, mirror off`,
  '1pg': 'memhub on PostgreSQL remember(), one at a time',
  '2pg': `memhub on PostgreSQL remember(), ${settings.inFlight} in flight`,
  '3a': 'sqlite: 1 record per transaction',
  '3b': `sqlite: ${formatCount(settings.batch)} records per transaction (*)`,
  '3c': `sqlite naive peer: BEGIN IMMEDIATE/record/COMMIT, busy_timeout ${settings.busyTimeoutMs}`,
  '3d': `sqlite flock peer: ${settings.inFlight} per transaction, blocking flock each`,
};

/** The row whose records/s a row is divided by in the "vs ceiling" column. */
const CEILING_OF: Partial<Record<RowId, RowId>> = { '1': '3a', '1n': '3a', '2': '3b', '2n': '3b', '1pg': '3a', '2pg': '3b', '3c': '3a', '3d': '3b' };
/** The mirror-off row that a row's "mirror cost" column compares with. */
const MIRROR_OFF_OF: Partial<Record<RowId, RowId>> = { '1': '1n', '2': '2n' };

function plan(id: RowId, processes: number): RowPlan {
  const common = {
    id,
    processes,
    warmupRecords: settings.warmupRecords,
    inFlight: 1,
    mirror: true,
    batchSize: settings.batch,
    busyTimeoutMs: settings.busyTimeoutMs,
  };
  switch (id) {
    case '1':
    case '1n':
      return { ...common, kind: 'memhub', recordsPerProcess: settings.records, mirror: id === '1' };
    case '2':
    case '2n':
      return { ...common, kind: 'memhub', recordsPerProcess: settings.inFlightRecords, inFlight: settings.inFlight, mirror: id === '2' };
    case '1pg':
      return { ...plan('1', processes), id, kind: 'memhub-postgres', postgresUrl: flags['postgres-url'] };
    case '2pg':
      return { ...plan('2', processes), id, kind: 'memhub-postgres', postgresUrl: flags['postgres-url'] };
    case '3a':
      return { ...common, kind: 'sqlite-autocommit', recordsPerProcess: settings.ceilingRecords };
    case '3b':
      return { ...common, kind: 'sqlite-batch', recordsPerProcess: settings.ceilingRecords };
    case '3c':
      return { ...common, kind: 'sqlite-naive', recordsPerProcess: settings.naiveRecords };
    case '3d':
      return { ...common, kind: 'sqlite-flock-batch', recordsPerProcess: settings.inFlightRecords, batchSize: settings.inFlight };
  }
}

/**
 * The order rows are measured in: the two ceilings, then for each P the rows compared at that P
 * back to back (with --engine postgres, the PostgreSQL rows right after their SQLite twins), so
 * that a slow patch of the machine is more likely to hit them alike.
 */
function measuringOrder(): RowPlan[] {
  const atP = (p: number): RowId[] => (withPostgres ? ['3c', '1', '1n', '1pg', '2', '2n', '3d', '2pg'] : ['3c', '1', '1n', '2', '2n', '3d']);
  return [plan('3a', 1), plan('3b', 1), ...settings.processes.flatMap((p) => atP(p).map((id) => plan(id, p)))];
}

/** The order rows are printed in: 1 and 2 for every P (mirror on, then off; then 1pg and 2pg), then 3a, 3b, and 3c and 3d for every P. */
const PRINTED_ORDER: readonly RowId[] = withPostgres
  ? ['1', '1n', '2', '2n', '1pg', '2pg', '3a', '3b', '3c', '3d']
  : ['1', '1n', '2', '2n', '3a', '3b', '3c', '3d'];

class Results {
  readonly #rows: RowResult[] = [];

  add(result: RowResult): void {
    this.#rows.push(result);
  }

  get all(): readonly RowResult[] {
    return this.#rows;
  }

  find(id: RowId, processes: number): RowResult | undefined {
    return this.#rows.find((row) => row.plan.id === id && row.plan.processes === processes);
  }

  /** The ceiling's rate (single process), NaN when it failed or was not run. */
  rate(id: RowId, processes: number): number {
    return this.find(id, processes)?.recordsPerSecond ?? Number.NaN;
  }
}

function countVerdict(row: RowResult): 'OK' | 'FAIL' {
  return row.failure === undefined && row.count.actual === row.count.expected ? 'OK' : 'FAIL';
}

function errorsCell(row: RowResult): string {
  if (row.failure !== undefined) return 'failed';
  const parts: string[] = [];
  if (row.busyErrors > 0) parts.push(`${formatCount(row.busyErrors)} BUSY`);
  if (row.otherErrors > 0) parts.push(`${formatCount(row.otherErrors)} other`);
  return parts.length === 0 ? '0' : parts.join(' + ');
}

function table(results: Results): string {
  const rows: string[][] = [];
  for (const id of PRINTED_ORDER) {
    const group = results.all.filter((row) => row.plan.id === id).sort((a, b) => a.plan.processes - b.plan.processes);
    for (const row of group) {
      const ceiling = CEILING_OF[id];
      const naive = id === '1' || id === '1pg' ? results.find('3c', row.plan.processes) : undefined;
      const mirrorOff = MIRROR_OFF_OF[id] === undefined ? undefined : results.find(MIRROR_OFF_OF[id] as RowId, row.plan.processes);
      rows.push([
        id,
        ROW_LABELS[id],
        String(row.plan.processes),
        `${row.plan.processes} x ${formatCount(row.plan.recordsPerProcess)}`,
        formatMicroseconds(row.wallMs * 1000),
        formatCount(row.recordsPerSecond),
        row.transactions === 0 ? '-' : formatPerCommit(row.attempted / row.transactions),
        formatMicroseconds(row.latencyUs.p50),
        formatMicroseconds(row.latencyUs.p99),
        formatMicroseconds(row.latencyUs.max),
        errorsCell(row),
        ceiling === undefined ? '' : `${formatRatio(row.recordsPerSecond / results.rate(ceiling, 1))} of ${ceiling}`,
        naive === undefined ? '' : formatRatio(row.latencyUs.max / naive.latencyUs.max),
        mirrorOff === undefined ? '' : formatShare(1 - row.recordsPerSecond / mirrorOff.recordsPerSecond),
        row.lockBusy === undefined ? '' : formatShare(row.lockBusy),
        row.count.actual === undefined
          ? `FAIL unreadable/${formatCount(row.count.expected)}`
          : `${countVerdict(row)} ${formatCount(row.count.actual)}/${formatCount(row.count.expected)}`,
      ]);
    }
    if (id === '2n' || id === '2pg') rows.push([]);
  }
  return formatTable(
    [
      { heading: '', align: 'left' },
      { heading: 'writes (each process its own Node process)', align: 'left' },
      { heading: 'P', align: 'right' },
      { heading: 'records', align: 'right' },
      { heading: 'wall', align: 'right' },
      { heading: 'records/s', align: 'right' },
      { heading: 'per commit', align: 'right' },
      { heading: 'p50', align: 'right' },
      { heading: 'p99', align: 'right' },
      { heading: 'max', align: 'right' },
      { heading: 'errors', align: 'right' },
      { heading: 'vs ceiling', align: 'right' },
      { heading: 'max vs 3c', align: 'right' },
      { heading: 'mirror cost', align: 'right' },
      { heading: 'lock held', align: 'right' },
      { heading: 'records in db', align: 'right' },
    ],
    rows,
  );
}

/** The share of throughput a row loses to another: "18%", "-3%" (it was faster). */
function formatShare(share: number): string {
  return Number.isFinite(share) ? `${Math.round(share * 100)}%` : '-';
}

/** Records per transaction: "1", "1.3", "64", "1,000". */
function formatPerCommit(value: number): string {
  return value < 10 ? String(Number(value.toFixed(1))) : formatCount(value);
}

/** A ratio with two decimals ("0.42"), or two significant digits when it is below 0.01 ("0.0031"). */
function twoDecimals(value: number): string {
  if (!Number.isFinite(value)) return '-';
  return value !== 0 && Math.abs(value) < 0.01 ? String(Number(value.toPrecision(2))) : value.toFixed(2);
}

/** The back-to-back pairs of each throughput target (empty when its P is not run, or with --rounds 0). */
interface TargetPairs {
  readonly inFlight: readonly PairedRound[];
  readonly oneAtATime: readonly PairedRound[];
}

/** A new folder inside the run's folder, for one target's pairs (each round writes into a folder of its own in it). */
function folderOf(parent: string, name: string): string {
  const path = join(parent, name);
  mkdirSync(path);
  return path;
}

/**
 * A throughput target's ratio and what it rests on: with paired rounds, their median decides, and
 * the main pass's ratio (two rows measured minutes apart) is shown beside it.
 */
function throughputVerdict(mainRatio: number, pairs: readonly PairedRound[]): { readonly ratio: number; readonly basis: string } {
  const paired = pairedVerdict(pairs);
  if (paired.pairs === 0) return { ratio: mainRatio, basis: twoDecimals(mainRatio) };
  return {
    ratio: paired.median,
    basis:
      `median of ${paired.pairs} back-to-back pairs ${twoDecimals(paired.median)}, lowest ${twoDecimals(paired.low)}, ` +
      `highest ${twoDecimals(paired.high)}; main pass ${twoDecimals(mainRatio)}`,
  };
}

function targetLines(results: Results, pairs: TargetPairs): string[] {
  const lines: string[] = [];
  const inFlight = results.find('2', TARGET_THROUGHPUT.processes);
  const throughput = throughputVerdict((inFlight?.recordsPerSecond ?? Number.NaN) / results.rate('3b', 1), pairs.inFlight);
  lines.push(
    `${settings.inFlight} in flight, ${TARGET_THROUGHPUT.processes} processes >= ${TARGET_THROUGHPUT.atLeast} x the single-process ` +
      `${settings.batch}-per-transaction ceiling: ` +
      (Number.isFinite(throughput.ratio) ? `${throughput.ratio >= TARGET_THROUGHPUT.atLeast ? 'yes' : 'no'} (${throughput.basis})` : 'not measured'),
  );
  const one = throughputVerdict(
    results.rate('1', TARGET_ONE_AT_A_TIME.processes) / results.rate('3c', TARGET_ONE_AT_A_TIME.processes),
    pairs.oneAtATime,
  );
  lines.push(
    `one at a time, P=${TARGET_ONE_AT_A_TIME.processes}: records/s >= ${TARGET_ONE_AT_A_TIME.atLeast} x the naive peer's: ` +
      (Number.isFinite(one.ratio) ? `${one.ratio >= TARGET_ONE_AT_A_TIME.atLeast ? 'yes' : 'no'} (${one.basis})` : 'not measured'),
  );
  const oneAtATime = results.find('1', TARGET_MAX_LATENCY.processes);
  const naive = results.find('3c', TARGET_MAX_LATENCY.processes);
  const latencyRatio = (oneAtATime?.latencyUs.max ?? Number.NaN) / (naive?.latencyUs.max ?? Number.NaN);
  lines.push(
    `one at a time, P=${TARGET_MAX_LATENCY.processes}: max latency < ${TARGET_MAX_LATENCY.below} x the naive peer's: ` +
      (Number.isFinite(latencyRatio)
        ? `${latencyRatio < TARGET_MAX_LATENCY.below ? 'yes' : 'no'} (${twoDecimals(latencyRatio)})`
        : 'not measured'),
  );
  const costs = settings.processes.map((p) => {
    const on = results.find('2', p)?.recordsPerSecond ?? Number.NaN;
    const off = results.find('2n', p)?.recordsPerSecond ?? Number.NaN;
    return { p, cost: 1 - on / off };
  });
  const measured = costs.filter(({ cost }) => Number.isFinite(cost));
  lines.push(
    `${settings.inFlight} in flight: the JSONL mirror costs <= ${TARGET_MIRROR_COST.atMost * 100}% of throughput: ` +
      (measured.length === 0
        ? 'not measured'
        : `${measured.every(({ cost }) => cost <= TARGET_MIRROR_COST.atMost) ? 'yes' : 'no'} (${measured
            .map(({ p, cost }) => `P=${p} ${formatShare(cost)}`)
            .join(', ')})`),
  );
  return lines;
}

/** With --engine postgres: the server's records/s against the embedded store's, per P, in both styles. */
function postgresLines(results: Results): string[] {
  const ratios = (server: RowId, embedded: RowId) =>
    settings.processes
      .map((p) => `P=${p} ${formatRatio((results.find(server, p)?.recordsPerSecond ?? Number.NaN) / (results.find(embedded, p)?.recordsPerSecond ?? Number.NaN))}`)
      .join(', ');
  return [
    `PostgreSQL records/s / SQLite records/s, one at a time (1pg / 1): ${ratios('1pg', '1')}`,
    `PostgreSQL records/s / SQLite records/s, ${settings.inFlight} in flight (2pg / 2): ${ratios('2pg', '2')}`,
  ];
}

/** Notes under the table: errors' first messages, failures, memhub's WAL checkpoints. */
function notes(results: Results): string[] {
  const lines: string[] = [];
  for (const row of results.all) {
    const name = `${row.plan.id} P=${row.plan.processes}`;
    if (row.failure !== undefined) lines.push(`${name} failed: ${row.failure}`);
    if (row.firstError !== undefined) lines.push(`${name} first error: ${row.firstError}`);
  }
  for (const row of results.all.filter((result) => result.afterOwnShare !== undefined && result.plan.processes > 1)) {
    lines.push(
      `${row.plan.id} P=${row.plan.processes}: ${formatShare(row.afterOwnShare as number)} of its transactions began right after the same ` +
        "process's previous one (flock(2) gives a released lock to whichever waiter runs first, often the releaser itself)",
    );
  }
  const checkpointed = results.all.filter((row) => row.checkpoints !== undefined && row.checkpoints.completed + row.checkpoints.starved > 0);
  for (const row of checkpointed) {
    const c = row.checkpoints!;
    lines.push(`${row.plan.id} P=${row.plan.processes}: memhub WAL checkpoints ${c.completed} completed, ${c.starved} starved`);
  }
  return lines;
}

/**
 * `--load N`: N processes that spin for the whole run, as the model clients, tools and shells of
 * agents do on the machine their memory store runs on. Killed at the end, and if the run dies.
 */
function startLoad(count: number): () => void {
  const spinners = Array.from({ length: count }, () => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
  const stop = () => {
    for (const spinner of spinners) spinner.kill('SIGKILL');
  };
  process.once('exit', stop);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
  return stop;
}

async function main(): Promise<void> {
  const folder = mkdtempSync(join(tmpdir(), 'memhub-bench-store-'));
  const results = new Results();
  const stopLoad = startLoad(settings.load);
  try {
    console.log('memhub store benchmark');
    for (const line of describeMachine(folder)) console.log(line);
    console.log(`load: ${settings.load === 0 ? 'none' : `${settings.load} busy-loop process${settings.load === 1 ? '' : 'es'} beside the writers for the whole run`}`);
    console.log('');

    const order = measuringOrder();
    for (const [index, rowPlan] of order.entries()) {
      progress(`row ${index + 1}/${order.length}: ${rowPlan.id} ${ROW_LABELS[rowPlan.id]}, P=${rowPlan.processes}`);
      const result = await runRow(rowPlan, folder, ROW_TIMEOUTS);
      results.add(result);
      if (result.failure !== undefined) progress(`  failed: ${result.failure}`);
    }
    const pairs: TargetPairs = {
      inFlight: settings.processes.includes(TARGET_THROUGHPUT.processes)
        ? await measurePairedRounds({
            measured: plan('2', TARGET_THROUGHPUT.processes),
            against: plan('3b', 1),
            rounds: settings.rounds,
            folder: folderOf(folder, 'pairs-in-flight'),
            timeouts: ROW_TIMEOUTS,
            progress,
          })
        : [],
      oneAtATime: settings.processes.includes(TARGET_ONE_AT_A_TIME.processes)
        ? await measurePairedRounds({
            measured: plan('1', TARGET_ONE_AT_A_TIME.processes),
            against: plan('3c', TARGET_ONE_AT_A_TIME.processes),
            rounds: settings.rounds,
            folder: folderOf(folder, 'pairs-one-at-a-time'),
            timeouts: ROW_TIMEOUTS,
            progress,
          })
        : [],
    };

    console.log(
      `Writes of one record each (${CONTENT_BYTES}-byte content, 2 tags, a contextPath), every process released at once ` +
        `after ${formatCount(settings.warmupRecords)} warm-up records; WAL, synchronous=NORMAL (memhub's default durability)`,
    );
    console.log(table(results));
    console.log('');
    console.log(
      'P: writer processes. wall: from "go" to the last report. records/s: all processes together, over that wall time. ' +
        'per commit: records per write transaction (memhub: per group commit). mirror cost: the share of the mirror-off ' +
        "row's records/s that the JSONL mirror (memhub's default) costs at the same P.",
    );
    console.log(
      `p50/p99/max: latency of each call (remember(), or one transaction), over all processes. (*) 3b's are per ` +
        `transaction of ${formatCount(settings.batch)} records. vs ceiling: records/s / the named single-process row's. ` +
        `max vs 3c: max latency / 3c's at the same P. lock held: the share of the wall time in which a process held the ` +
        "store's write lock (memhub on SQLite): near 100%, the lock is what limits the row; below, the writers' own work and the hand-offs.",
    );
    console.log(
      `3d: bare better-sqlite3 in P processes, each writing ${settings.inFlight} records per BEGIN IMMEDIATE transaction under a ` +
        'blocking flock of the lock file: the transactions of row 2 without memhub (no queue, validation, mirror or fair hand-off).',
    );
    for (const line of notes(results)) console.log(line);
    for (const [rounds, measured, against, what] of [
      [pairs.inFlight, '2', '3b', `2 at P=${TARGET_THROUGHPUT.processes} against 3b`],
      [pairs.oneAtATime, '1', '3c', `1 against 3c, both at P=${TARGET_ONE_AT_A_TIME.processes}`],
    ] as const) {
      if (rounds.length === 0) continue;
      console.log('');
      console.log(
        `Throughput target, measured again in back-to-back pairs (${rounds.length} round${rounds.length === 1 ? '' : 's'}, ` +
          `alternately ${against} first and ${measured} first): ${what}`,
      );
      console.log(pairedRoundsTable(rounds, measured, against));
    }
    console.log('');
    for (const line of targetLines(results, pairs)) console.log(line);
    if (withPostgres) {
      console.log('');
      for (const line of postgresLines(results)) console.log(line);
    }
    if (flags.chart !== '') {
      const machine = describeMachine(folder).find((line) => line.startsWith('cpu:'))?.replace('cpu:', '').trim() ?? '';
      await writeStoreChart(results.all, resolve(flags.chart), `one run, ${machine}, ${new Date().toISOString().slice(0, 10)}`);
      console.log(`chart: ${resolve(flags.chart)}`);
    }
    const isMemhub = (row: RowResult) => row.plan.kind === 'memhub' || row.plan.kind === 'memhub-postgres';
    const everyRow = [...results.all, ...[...pairs.inFlight, ...pairs.oneAtATime].flatMap((pair) => [pair.measured, pair.against])];
    if (everyRow.some((row) => row.failure !== undefined || (isMemhub(row) && countVerdict(row) === 'FAIL'))) {
      process.exitCode = 1;
    }
  } finally {
    stopLoad();
    rmSync(folder, { recursive: true, force: true });
  }
}

await main();
