import { Command } from 'commander';
import type { LockMetricsSnapshot } from '@memhub/lock';
import type { CheckpointStats, StoreStats } from '@memhub/store';
import { withHelp } from '../command-help.js';
import { formatBytes, formatCount } from '../format.js';
import { Output } from '../output.js';
import { addJsonOption, addStoreOptions, openTargetStore, storeTarget } from '../store-target.js';
import { layerFiles, type LayerFiles } from '../store-files.js';

/** What `memhub stats --json` prints. */
export interface StatsReport {
  readonly engine: StoreStats['engine'];
  readonly location: string;
  readonly records: number;
  readonly recordsByLayer: Readonly<Record<string, number>>;
  readonly recallCounts: { readonly total: number; readonly pendingInThisProcess: number };
  readonly sizes: {
    /** SQLite: memory.db. PostgreSQL: the tables of the store's schema, indexes included. */
    readonly databaseBytes: number;
    /** SQLite's memory.db-wal; null on PostgreSQL (the server's WAL is not the store's). */
    readonly walBytes: number | null;
    /** Each layer's JSONL mirror and its index, from the files in `layers/`; none on PostgreSQL. */
    readonly layers: readonly Omit<LayerFiles, 'lockFile'>[];
  };
  /** The store's lock files as this process used them while it opened the store and read these figures; none on PostgreSQL (an advisory lock on the server). */
  readonly locks: readonly LockMetricsSnapshot[];
  /** This process's WAL checkpoints (SQLite); null on PostgreSQL. */
  readonly checkpoints: CheckpointStats | null;
}

/** `memhub stats`: records per layer, file sizes, recall counts, lock metrics. */
export function statsCommand(): Command {
  const command = new Command('stats').summary('records per layer, file sizes, recall counts, lock metrics')
    .description('records per layer, sizes of the database, its WAL and the layer mirrors, recall counts, lock metrics');
  addJsonOption(addStoreOptions(command));
  withHelp(command, ['memhub stats', `memhub stats --json | jq .recordsByLayer`]);
  return command.action(async (options: { json?: boolean; debug?: boolean }, self: Command) => {
    const target = storeTarget(self);
    const store = await openTargetStore(target, { mustExist: true, debug: options.debug === true });
    let stats: StoreStats;
    try {
      stats = await store.stats();
    } finally {
      await store.close();
    }
    const report: StatsReport = {
      engine: stats.engine,
      location: stats.location,
      records: stats.records,
      recordsByLayer: stats.recordsByLayer,
      recallCounts: { total: stats.recallCountTotal, pendingInThisProcess: stats.pendingRecallCounts },
      sizes: {
        databaseBytes: stats.databaseBytes,
        walBytes: stats.walBytes ?? null,
        layers: target.dir === undefined ? [] : layerFiles(target.dir).map(({ layer, mirrorBytes, indexBytes }) => ({ layer, mirrorBytes, indexBytes })),
      },
      locks: stats.locks,
      checkpoints: stats.checkpoints ?? null,
    };
    const output = new Output({ json: options.json === true });
    if (output.json) output.data(report);
    else printStats(output, report);
  });
}

/** The figures each engine has: a PostgreSQL store has no files, WAL, checkpoints or lock files of its own to show. */
function printStats(output: Output, report: StatsReport): void {
  const { bold, dim } = output.colors;
  output.line(`${bold('store')}  ${report.location} ${dim(`(${report.engine})`)}`);
  output.line();
  const layers = Object.entries(report.recordsByLayer).sort(([a], [b]) => a.localeCompare(b));
  output.table(
    ['layer', 'records'],
    [...layers.map(([layer, records]) => [layer, formatCount(records)]), [bold('all'), bold(formatCount(report.records))]],
    ['left', 'right'],
  );
  output.line();
  if (report.engine === 'postgres') {
    output.fields([
      ['size', `${formatBytes(report.sizes.databaseBytes)} ${dim('(the tables of its schema, indexes included)')}`],
      ['recall counts', `${formatCount(report.recallCounts.total)} in all`],
      ['writes', dim('serialised by a transaction-scoped advisory lock on the server')],
    ]);
    return;
  }
  printSqliteFiguresOf(output, report);
}

function printSqliteFiguresOf(output: Output, report: StatsReport): void {
  const { dim } = output.colors;
  const files: string[][] = [['memory.db', formatBytes(report.sizes.databaseBytes)]];
  if (report.sizes.walBytes !== null) files.push(['memory.db-wal', formatBytes(report.sizes.walBytes)]);
  for (const layer of report.sizes.layers) {
    files.push([`layers/${layer.layer}.jsonl`, formatBytes(layer.mirrorBytes)], [`layers/${layer.layer}.idx`, formatBytes(layer.indexBytes)]);
  }
  output.table(['file', 'size'], files, ['left', 'right']);
  output.line();
  output.fields([
    ['recall counts', `${formatCount(report.recallCounts.total)} in all`],
    ['checkpoints', report.checkpoints === null ? 'n/a' : `${report.checkpoints.completed} completed, ${report.checkpoints.starved} starved (this process)`],
  ]);
  output.line();
  output.line(dim('locks, as this process used them to open the store and read these figures (wait and hold in ms):'));
  output.table(
    ['lock', 'acquired', 'contended', 'timeouts', 'wait p50', 'wait p99', 'wait max', 'hold max'],
    report.locks.map((lock) => [
      lock.path.replace(`${report.location}/`, ''),
      String(lock.acquisitions),
      String(lock.contended),
      String(lock.timeouts),
      lock.wait.p50.toFixed(2),
      lock.wait.p99.toFixed(2),
      lock.wait.max.toFixed(2),
      lock.hold.max.toFixed(2),
    ]),
    ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
  );
}
