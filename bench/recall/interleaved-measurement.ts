import type { BareDatabase } from './bare-database.js';
import type { MemhubStores } from './memhub-stores.js';
import type { PlannedQuery } from './query-list.js';
import type { RecallCase } from './recall-cases.js';

/** What one case measured: a latency per query on each side, and what each side returned. */
export interface CaseMeasurement {
  readonly recallCase: RecallCase;
  /** Microseconds per query, in the order of the query list. */
  readonly memhubUs: number[];
  readonly bareUs: number[];
  /** Rows returned per query. */
  readonly memhubHits: number[];
  readonly bareHits: number[];
  /** Per query: how many of the bare side's rows memhub also returned (by content). */
  readonly sharedHits: number[];
  /** Queries that threw, on either side, with the first error's message. */
  readonly failures: number;
  readonly firstFailure: string | undefined;
}

/**
 * Runs every query of the list on both sides, one memhub query and one bare query in turn, and
 * who goes first alternating from one query to the next: a slow moment of the machine (another
 * process, a page-cache miss, a garbage collection) then falls on both sides alike, and neither
 * always runs on the other's warm caches. Each query is timed alone, from the call to its
 * result: for memhub, the awaited recall() with its validation, ranking and snippets; for the
 * bare side, the synchronous statement with its rows as better-sqlite3 returns them.
 */
export async function measureCase(recallCase: RecallCase, queries: readonly PlannedQuery[], memhub: MemhubStores, bare: BareDatabase): Promise<CaseMeasurement> {
  const measurement = { memhubUs: [] as number[], bareUs: [] as number[], memhubHits: [] as number[], bareHits: [] as number[], sharedHits: [] as number[] };
  let failures = 0;
  let firstFailure: string | undefined;
  const failed = (side: string, query: PlannedQuery, error: unknown) => {
    failures += 1;
    firstFailure ??= `${side} "${query.words.join(' ')}": ${error instanceof Error ? error.message : String(error)}`;
  };
  for (const [index, query] of queries.entries()) {
    let memhubContents: string[] | undefined;
    let bareContents: string[] | undefined;
    const runMemhub = async () => {
      try {
        const started = performance.now();
        const records = await memhub.recall(recallCase, query);
        measurement.memhubUs.push((performance.now() - started) * 1000);
        memhubContents = records.map((record) => record.content);
      } catch (error) {
        failed('memhub', query, error);
      }
    };
    const runBare = () => {
      try {
        const started = performance.now();
        const rows = bare.recall(recallCase.kind, query);
        measurement.bareUs.push((performance.now() - started) * 1000);
        bareContents = rows.map((row) => row.content);
      } catch (error) {
        failed('bare', query, error);
      }
    };
    if (index % 2 === 0) {
      await runMemhub();
      runBare();
    } else {
      runBare();
      await runMemhub();
    }
    if (memhubContents !== undefined && bareContents !== undefined) {
      const returned = new Set(memhubContents);
      measurement.memhubHits.push(memhubContents.length);
      measurement.bareHits.push(bareContents.length);
      measurement.sharedHits.push(bareContents.filter((content) => returned.has(content)).length);
    }
  }
  return { recallCase, ...measurement, failures, firstFailure };
}
