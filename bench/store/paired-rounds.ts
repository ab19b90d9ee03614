import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { formatCount } from '../shared/number-format.js';
import { median } from '../shared/statistics.js';
import { formatTable } from '../shared/text-table.js';
import { runRow, type RowPlan, type RowResult, type RowTimeouts } from './rows.js';

/** One round: a memhub row and the row it is held against (a ceiling, or a peer) measured back to back, and the first's rate over the second's. */
export interface PairedRound {
  readonly round: number;
  readonly measured: RowResult;
  readonly against: RowResult;
  readonly ratio: number;
}

/**
 * A ratio between two rows of one pass is a ratio between two moments: on a shared 2-core VM the
 * same row has been seen to vary by half from one minute to the next, and the main pass measures
 * one row of a target minutes before the other. So a target's two rows are measured
 * again as pairs, back to back, alternating which goes first (a slow patch then hits both, or
 * each side as often), and the verdict is the median of the pairs' ratios. Each round writes
 * into a folder of its own.
 */
export async function measurePairedRounds(options: {
  readonly measured: RowPlan;
  readonly against: RowPlan;
  readonly rounds: number;
  readonly folder: string;
  readonly timeouts: RowTimeouts;
  readonly progress: (message: string) => void;
}): Promise<PairedRound[]> {
  const pairs: PairedRound[] = [];
  for (let index = 0; index < options.rounds; index += 1) {
    const round = index + 1;
    const folder = join(options.folder, `round-${round}`);
    mkdirSync(folder);
    const againstFirst = index % 2 === 0;
    options.progress(`paired round ${round}/${options.rounds}: ${againstFirst ? `${options.against.id} then ${options.measured.id}` : `${options.measured.id} then ${options.against.id}`}`);
    let measured: RowResult;
    let against: RowResult;
    if (againstFirst) {
      against = await runRow(options.against, folder, options.timeouts);
      measured = await runRow(options.measured, folder, options.timeouts);
    } else {
      measured = await runRow(options.measured, folder, options.timeouts);
      against = await runRow(options.against, folder, options.timeouts);
    }
    for (const row of [measured, against]) {
      if (row.failure !== undefined) options.progress(`  ${row.plan.id} failed: ${row.failure}`);
    }
    pairs.push(pairOf(round, measured, against));
  }
  return pairs;
}

function pairOf(round: number, measured: RowResult, against: RowResult): PairedRound {
  const failed = measured.failure !== undefined || against.failure !== undefined;
  return { round, measured, against, ratio: failed ? Number.NaN : measured.recordsPerSecond / against.recordsPerSecond };
}

/** The median ratio of the pairs that both ran, with the lowest and highest; NaN when none did. */
export function pairedVerdict(pairs: readonly PairedRound[]): { readonly median: number; readonly low: number; readonly high: number; readonly pairs: number } {
  const ratios = pairs.map((pair) => pair.ratio).filter((ratio) => Number.isFinite(ratio));
  return {
    median: median(ratios),
    low: ratios.length === 0 ? Number.NaN : Math.min(...ratios),
    high: ratios.length === 0 ? Number.NaN : Math.max(...ratios),
    pairs: ratios.length,
  };
}

/** The rounds as a table: each pair's rates and ratio. */
export function pairedRoundsTable(pairs: readonly PairedRound[], measuredId: string, againstId: string): string {
  return formatTable(
    [
      { heading: 'round', align: 'right' },
      { heading: `${measuredId} records/s`, align: 'right' },
      { heading: `${againstId} records/s`, align: 'right' },
      { heading: 'ratio', align: 'right' },
    ],
    pairs.map((pair) => [
      String(pair.round),
      pair.measured.failure === undefined ? formatCount(pair.measured.recordsPerSecond) : 'failed',
      pair.against.failure === undefined ? formatCount(pair.against.recordsPerSecond) : 'failed',
      Number.isFinite(pair.ratio) ? pair.ratio.toFixed(2) : '-',
    ]),
  );
}
