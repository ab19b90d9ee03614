import { formatCount, formatMicroseconds, formatPercent, formatRatio } from '../shared/number-format.js';
import { percentileOfSorted } from '../shared/statistics.js';
import { formatTable } from '../shared/text-table.js';
import type { CaseMeasurement } from './interleaved-measurement.js';
import type { MemhubLoadTimes } from './memhub-stores.js';
import { caseLabel, type CaseKind } from './recall-cases.js';

/** The target: memhub's ranking (everything recall does beyond bm25) costs at most this much more than bare bm25, at p50. */
export const TARGET_P50_RATIO = 1.5;

/** Everything measured on one store size. */
export interface SizeResult {
  readonly records: number;
  readonly memhubLoad: MemhubLoadTimes;
  readonly bareLoadMs: number;
  /** Bytes of each side's files (databases and their WAL files). */
  readonly memhubBytes: number;
  readonly bareBytes: number;
  readonly cases: readonly CaseMeasurement[];
  /** Per kind of case: the median number of rows a query matches before the limit (counted on the bare database). */
  readonly medianMatching: Readonly<Record<CaseKind, number>>;
}

interface Latencies {
  readonly p50: number;
  readonly p99: number;
}

function latencies(us: readonly number[]): Latencies {
  const sorted = [...us].sort((a, b) => a - b);
  return { p50: percentileOfSorted(sorted, 50), p99: percentileOfSorted(sorted, 99) };
}

/** memhub's p50 over the bare side's, for one case. */
export function p50Ratio(measurement: CaseMeasurement): number {
  return latencies(measurement.memhubUs).p50 / latencies(measurement.bareUs).p50;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function mebibytes(bytes: number): string {
  return `${formatCount(bytes / 2 ** 20)} MiB`;
}

/** How long each side took to load the rows, and how large it is on disk. */
export function loadTable(result: SizeResult): string {
  const memhubMs = result.memhubLoad.writeMs + result.memhubLoad.indexCatchUpMs;
  return formatTable(
    [
      { heading: `load of ${formatCount(result.records)} rows`, align: 'left' },
      { heading: 'writes', align: 'right' },
      { heading: 'index catch-up', align: 'right' },
      { heading: 'total', align: 'right' },
      { heading: 'rows/s', align: 'right' },
      { heading: 'on disk', align: 'right' },
    ],
    [
      [
        'memhub rememberMany(), mirror off, then flush()',
        seconds(result.memhubLoad.writeMs),
        seconds(result.memhubLoad.indexCatchUpMs),
        seconds(memhubMs),
        formatCount(result.records / (memhubMs / 1000)),
        mebibytes(result.memhubBytes),
      ],
      ['bare better-sqlite3 + FTS5', seconds(result.bareLoadMs), '-', seconds(result.bareLoadMs), formatCount(result.records / (result.bareLoadMs / 1000)), mebibytes(result.bareBytes)],
    ],
  );
}

/** One line per case: both sides' p50 and p99, their ratio at p50 against the target, and what the queries found. */
export function caseTable(result: SizeResult): string {
  const rows = result.cases.map((measurement) => {
    const memhub = latencies(measurement.memhubUs);
    const bare = latencies(measurement.bareUs);
    const ratio = memhub.p50 / bare.p50;
    const bareRows = measurement.bareHits.reduce((sum, hits) => sum + hits, 0);
    const shared = measurement.sharedHits.reduce((sum, hits) => sum + hits, 0);
    return [
      caseLabel(measurement.recallCase),
      formatMicroseconds(memhub.p50),
      formatMicroseconds(memhub.p99),
      formatMicroseconds(bare.p50),
      formatMicroseconds(bare.p99),
      formatRatio(ratio),
      Number.isFinite(ratio) ? (ratio <= TARGET_P50_RATIO ? 'met' : 'unmet') : '-',
      formatCount(result.medianMatching[measurement.recallCase.kind]),
      bareRows === 0 ? '-' : formatPercent(shared / bareRows),
      measurement.failures === 0 ? '0' : formatCount(measurement.failures),
    ];
  });
  return formatTable(
    [
      { heading: `recall, ${formatCount(result.records)} rows`, align: 'left' },
      { heading: 'memhub p50', align: 'right' },
      { heading: 'memhub p99', align: 'right' },
      { heading: 'bare p50', align: 'right' },
      { heading: 'bare p99', align: 'right' },
      { heading: 'p50 ratio', align: 'right' },
      { heading: `<= ${TARGET_P50_RATIO}x`, align: 'right' },
      { heading: 'rows matched', align: 'right' },
      { heading: 'same top 10', align: 'right' },
      { heading: 'failed', align: 'right' },
    ],
    rows,
  );
}

/** The target line: in how many cases memhub's p50 is within TARGET_P50_RATIO of the bare p50, and which are not. */
export function targetLines(results: readonly SizeResult[]): string[] {
  const judged = results.flatMap((result) => result.cases.map((measurement) => ({ result, measurement, ratio: p50Ratio(measurement) })));
  const measured = judged.filter(({ ratio }) => Number.isFinite(ratio));
  const unmet = measured.filter(({ ratio }) => ratio > TARGET_P50_RATIO);
  const lines = [
    `target: memhub recall() p50 <= ${TARGET_P50_RATIO}x bare FTS5 bm25 p50 on the same rows: ` +
      `met in ${measured.length - unmet.length} of ${judged.length} cases` +
      (measured.length < judged.length ? ` (${judged.length - measured.length} not measured)` : ''),
  ];
  for (const { result, measurement, ratio } of unmet) {
    lines.push(`  unmet: ${formatCount(result.records)} rows, ${caseLabel(measurement.recallCase)}: ${formatRatio(ratio)}`);
  }
  return lines;
}
