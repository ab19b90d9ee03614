/**
 * `pnpm bench:recall`: how long @memhub/store's recall() takes on stores of 100k and 1M notes,
 * next to bare FTS5 bm25 through better-sqlite3 on the same rows, both measured in this one run,
 * query by query in turn. Not a test: nothing here asserts a time. Only a query that fails, a
 * store that does not hold the rows loaded, or memhub finding nothing where the bare query finds
 * rows makes the exit code non-zero. See ../README.md for what each row means.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { describeMachine } from '../shared/machine.js';
import { formatCount } from '../shared/number-format.js';
import { scriptArguments } from '../shared/script-arguments.js';
import { median } from '../shared/statistics.js';
import { BARE_LOAD_TRANSACTION, BareDatabase } from './bare-database.js';
import { AGENTS, CONTENT_BYTES, notes, TAGS, type Note } from './corpus.js';
import { measureCase, type CaseMeasurement } from './interleaved-measurement.js';
import { MEMHUB_LOAD_BATCH, MemhubStores } from './memhub-stores.js';
import { MEASURED_SEED, planQueries, SCOPE_AGENTS, WARMUP_SEED, type PlannedQuery } from './query-list.js';
import { CASE_KINDS, RECALL_CASES, RECALL_LIMIT, type CaseKind } from './recall-cases.js';
import { caseTable, loadTable, targetLines, type SizeResult } from './report.js';
import { QUERY_RANKS, Vocabulary, VOCABULARY_SIZE } from './vocabulary.js';

const { values: flags } = parseArgs({
  args: scriptArguments(),
  options: {
    /** Store sizes, each measured on a fresh pair of databases. */
    records: { type: 'string', default: '100000,1000000' },
    /** Measured queries per case and side. */
    queries: { type: 'string', default: '300' },
    /** Unmeasured queries per case and side first (other words than the measured ones). */
    warmup: { type: 'string', default: '30' },
  },
});

function wholeNumber(name: string, text: string, least: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < least) throw new Error(`--${name} must be a whole number of at least ${least}, got "${text}"`);
  return value;
}

const settings = {
  records: [...new Set(flags.records.split(',').map((text) => wholeNumber('records', text.trim(), 1)))].sort((a, b) => a - b),
  queries: wholeNumber('queries', flags.queries, 1),
  warmup: wholeNumber('warmup', flags.warmup, 0),
};

/** Progress goes to stderr, so that stdout holds only the report. */
const progress = (message: string) => process.stderr.write(`  .. ${message}\n`);

/** Bytes of the files directly in `folder` (a database, its WAL, memhub's search index database). */
function folderBytes(folder: string): number {
  return readdirSync(folder, { withFileTypes: true })
    .filter((entry) => entry.isFile())
    .reduce((sum, entry) => sum + statSync(join(folder, entry.name)).size, 0);
}

/** The notes, and their total content length as they pass (the same for both sides). */
function* countingBytes(rows: Iterable<Note>, total: { bytes: number }): Generator<Note> {
  for (const row of rows) {
    total.bytes += row.content.length;
    yield row;
  }
}

/** Where memhub returned nothing though the bare query found rows: a recall that misses, not a slow one. */
function emptyWhereBareFound(measurement: CaseMeasurement): number {
  return measurement.memhubHits.filter((hits, index) => hits === 0 && (measurement.bareHits[index] ?? 0) > 0).length;
}

/** Where memhub returned fewer rows than the bare query (it should return as many: both ask for RECALL_LIMIT). */
function fewerThanBare(measurement: CaseMeasurement): number {
  return measurement.memhubHits.filter((hits, index) => hits < (measurement.bareHits[index] ?? 0)).length;
}

async function measureSize(folder: string, records: number, vocabulary: Vocabulary, queries: readonly PlannedQuery[], warmup: readonly PlannedQuery[]): Promise<{ result: SizeResult; problems: string[] }> {
  const problems: string[] = [];
  const started = performance.now();
  const memhubFolder = join(folder, 'memhub');
  const bareFolder = join(folder, 'bare');
  mkdirSync(bareFolder, { recursive: true });
  const content = { bytes: 0 };
  progress(`${formatCount(records)} rows: loading memhub (rememberMany of ${formatCount(MEMHUB_LOAD_BATCH)}, then flush)`);
  const { stores: memhub, times: memhubLoad } = await MemhubStores.load(memhubFolder, countingBytes(notes(vocabulary, records), content));
  let bare: BareDatabase | undefined;
  try {
    progress(`${formatCount(records)} rows: loading the bare database (${formatCount(BARE_LOAD_TRANSACTION)} rows a transaction)`);
    const created = BareDatabase.create(join(bareFolder, 'bare.db'), notes(vocabulary, records));
    bare = created.database;
    const held = await memhub.records();
    if (held !== records) problems.push(`${formatCount(records)} rows: the memhub store holds ${formatCount(held)} records`);
    const cases: CaseMeasurement[] = [];
    for (const recallCase of RECALL_CASES) {
      progress(`${formatCount(records)} rows: ${recallCase.kind}${recallCase.explain ? ', explain' : ''} (${settings.warmup} warm-up + ${settings.queries} queries a side)`);
      await measureCase(recallCase, warmup, memhub, bare);
      const measurement = await measureCase(recallCase, queries, memhub, bare);
      cases.push(measurement);
      if (measurement.failures > 0) problems.push(`${formatCount(records)} rows, ${recallCase.kind}: ${measurement.failures} queries failed, first: ${measurement.firstFailure ?? '?'}`);
      const empty = emptyWhereBareFound(measurement);
      if (empty > 0) problems.push(`${formatCount(records)} rows, ${recallCase.kind}: memhub found nothing in ${empty} queries where the bare query found rows`);
    }
    // Counted after the measurements, on the bare database, so that the counting warms nothing that is measured.
    const bareDatabase = bare;
    const medianMatching = Object.fromEntries(
      CASE_KINDS.map((kind) => [kind, median(queries.map((query) => bareDatabase.matching(kind, query)))]),
    ) as Record<CaseKind, number>;
    const result: SizeResult = {
      records,
      memhubLoad,
      bareLoadMs: created.loadMs,
      memhubBytes: folderBytes(memhubFolder),
      bareBytes: folderBytes(bareFolder),
      cases,
      medianMatching,
    };
    const meanBytes = content.bytes / records;
    console.log('');
    console.log(`${formatCount(records)} rows, content ${CONTENT_BYTES.min}-${CONTENT_BYTES.max} bytes (mean ${Math.round(meanBytes)})`);
    console.log(loadTable(result));
    console.log('');
    console.log(caseTable(result));
    for (const measurement of cases) {
      const fewer = fewerThanBare(measurement);
      if (fewer > 0) console.log(`note: ${measurement.recallCase.kind}${measurement.recallCase.explain ? ', explain' : ''}: memhub returned fewer rows than the bare query in ${fewer} queries`);
    }
    console.log(`(${formatCount(records)} rows: loaded and measured in ${Math.round((performance.now() - started) / 1000)} s)`);
    return { result, problems };
  } finally {
    bare?.close();
    await memhub.close();
  }
}

async function main(): Promise<void> {
  const folder = mkdtempSync(join(tmpdir(), 'memhub-bench-recall-'));
  try {
    for (const line of describeMachine(folder)) console.log(line);
    const vocabulary = new Vocabulary();
    const queries = planQueries(vocabulary, settings.queries, MEASURED_SEED);
    const warmup = planQueries(vocabulary, settings.warmup, WARMUP_SEED);
    console.log(
      `corpus: seeded notes, words drawn from ${formatCount(VOCABULARY_SIZE)} by Zipf's law, 2-3 tags of ${TAGS.length}, ` +
        `contextPath /agents/<one of ${AGENTS.length}>/<topic>`,
    );
    console.log(
      `queries: ${formatCount(settings.queries)} per case and side after ${formatCount(settings.warmup)} unmeasured, memhub and bare in turn; ` +
        `1 or 2 words of frequency ranks ${QUERY_RANKS.from}-${QUERY_RANKS.to}; limit ${RECALL_LIMIT}; memhub with count: false; ` +
        `scope: stores opened with scope /agents/<one of ${SCOPE_AGENTS.join(', ')}>`,
    );
    const results: SizeResult[] = [];
    const problems: string[] = [];
    for (const records of settings.records) {
      const sizeFolder = join(folder, `rows-${records}`);
      try {
        const measured = await measureSize(sizeFolder, records, vocabulary, queries, warmup);
        results.push(measured.result);
        problems.push(...measured.problems);
      } finally {
        // Each size's databases go as soon as it is measured: the next size starts with the disk and page cache it had.
        rmSync(sizeFolder, { recursive: true, force: true });
      }
    }
    console.log('');
    console.log(
      'p50/p99: latency of one query, from the call to its rows (memhub: the awaited recall() with its validation, ranking and snippets). ' +
        'p50 ratio: memhub p50 / bare p50. rows matched: median rows a query matches before the limit. ' +
        'same top 10: share of the bare rows that memhub also returned.',
    );
    for (const line of targetLines(results)) console.log(line);
    if (problems.length > 0) {
      for (const problem of problems) console.log(`FAIL ${problem}`);
      process.exitCode = 1;
    }
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

await main();
