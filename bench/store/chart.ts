import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { RowId, RowResult } from './rows.js';

/** The rows drawn as lines against P, with the names the legend gives them. */
const SERIES: Partial<Record<RowId, string>> = {
  '1': 'memhub, one at a time',
  '2': 'memhub, 64 in flight',
  '1n': 'memhub, one at a time, mirror off',
  '2n': 'memhub, 64 in flight, mirror off',
  '1pg': 'memhub on PostgreSQL, one at a time',
  '2pg': 'memhub on PostgreSQL, 64 in flight',
  '3c': 'naive peer (busy_timeout only)',
  '3d': 'flock peer, 64 per transaction',
};
/** Single-process ceilings, drawn as horizontal rules on the throughput panel. */
const CEILINGS: Partial<Record<RowId, string>> = {
  '3a': 'bare SQLite, 1 per transaction',
  '3b': 'bare SQLite, 1000 per transaction',
};

/**
 * Writes the run as an SVG chart (vega-lite, rendered without a browser): records/s against the
 * number of processes, with the single-process ceilings as rules, and beside it the slowest call
 * against the number of processes on a log scale: memhub beside the naive busy_timeout peer.
 */
export async function writeStoreChart(results: readonly RowResult[], path: string, subtitle: string): Promise<void> {
  const lines = results
    .filter((row) => SERIES[row.plan.id] !== undefined && row.failure === undefined)
    .map((row) => ({
      processes: row.plan.processes,
      series: SERIES[row.plan.id] as string,
      recordsPerSecond: Math.round(row.recordsPerSecond),
      maxLatencyMs: row.latencyUs.max / 1000,
    }));
  const ceilings = results
    .filter((row) => CEILINGS[row.plan.id] !== undefined && row.failure === undefined)
    .map((row) => ({ series: CEILINGS[row.plan.id] as string, recordsPerSecond: Math.round(row.recordsPerSecond) }));
  const processValues = [...new Set(lines.map((line) => line.processes))].sort((a, b) => a - b);
  // memhub in blues and greens (darker: the default, mirror on), the naive peer in red, the ceilings in grey.
  const palette: Record<string, string> = {
    [SERIES['1'] as string]: '#1f5fa8',
    [SERIES['1n'] as string]: '#8fb8e6',
    [SERIES['2'] as string]: '#1b7f3b',
    [SERIES['2n'] as string]: '#8fd19e',
    [SERIES['1pg'] as string]: '#7b4fa0',
    [SERIES['2pg'] as string]: '#c28bd8',
    [SERIES['3c'] as string]: '#c0392b',
    [SERIES['3d'] as string]: '#e67e22',
    [CEILINGS['3a'] as string]: '#7f7f7f',
    [CEILINGS['3b'] as string]: '#3f3f3f',
  };
  const drawn = new Set([...lines, ...ceilings].map((line) => line.series));
  const shown = Object.entries(palette).filter(([series]) => drawn.has(series));
  const color = {
    field: 'series',
    type: 'nominal',
    title: null,
    scale: { domain: shown.map(([series]) => series), range: shown.map(([, colour]) => colour) },
    legend: { orient: 'bottom', columns: 2, labelLimit: 320 },
  } as const;
  const processes = {
    field: 'processes',
    type: 'quantitative',
    title: 'writer processes (P)',
    scale: { type: 'log', base: 2 },
    axis: { values: processValues },
  } as { field: 'processes'; type: 'quantitative'; title: string; scale: { type: 'log'; base: number }; axis: { values: number[] } };
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'pnpm bench:store: memhub beside bare SQLite', subtitle },
    config: { font: 'sans-serif', view: { stroke: null } },
    hconcat: [
      {
        width: 340,
        height: 240,
        title: 'records/s (higher is better)',
        layer: [
          {
            data: { values: lines },
            mark: { type: 'line', point: true },
            encoding: { x: processes, y: { field: 'recordsPerSecond', type: 'quantitative', title: 'records/s' }, color },
          },
          {
            data: { values: ceilings },
            mark: { type: 'rule', strokeDash: [4, 4] },
            encoding: { y: { field: 'recordsPerSecond', type: 'quantitative' }, color },
          },
        ],
      },
      {
        width: 340,
        height: 240,
        title: 'slowest call, ms (lower is better)',
        data: { values: lines.filter((line) => !line.series.includes('mirror off')) },
        mark: { type: 'line', point: true },
        encoding: { x: processes, y: { field: 'maxLatencyMs', type: 'quantitative', title: 'max latency (ms)', scale: { type: 'log' } }, color },
      },
    ],
  };
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, svg);
}
