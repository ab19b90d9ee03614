import { availableParallelism } from 'node:os';
import { Command } from 'commander';
import { withHelp } from '../command-help.js';
import { CommandFailedError } from '../errors.js';
import { formatCount } from '../format.js';
import { inputSource, outputPath, RejectsFile } from '../input-files.js';
import { Output } from '../output.js';
import { integerParser } from '../parse-values.js';
import { addJsonOption, addStoreOptions, openTargetStore, storeTarget } from '../store-target.js';

interface IngestOptions {
  readonly workers: number;
  readonly batchSize: number;
  readonly rejects?: string;
  readonly json?: boolean;
  readonly debug?: boolean;
}

/** What `memhub ingest --json` prints. */
export interface IngestSummary {
  /** The input file, or `-` for stdin. */
  readonly input: string;
  readonly workers: number;
  /** Lines read from the input, blank ones included. */
  readonly lines: number;
  /** Good lines, now in the store: written, or already there under their `key`. */
  readonly ingested: number;
  /** Bad lines (reported on stderr and in the rejects file); the good ones were ingested all the same. */
  readonly rejected: number;
  /** Blank lines, skipped. */
  readonly blank: number;
  /** Records in the store before and after, and the difference (other writers' records count too). */
  readonly storeRecordsBefore: number;
  readonly storeRecordsAfter: number;
  readonly added: number;
  readonly seconds: number;
  readonly recordsPerSecond: number;
  readonly rejectsFile: string | null;
  /** True when every worker finished; false when one failed (exit code 1). */
  readonly complete: boolean;
  readonly failures: readonly string[];
}

const DEFAULT_WORKERS = Math.max(1, Math.min(4, availableParallelism()));
const DEFAULT_BATCH = 500;

/** `memhub ingest <file|->`: JSONL of remember inputs, written by several worker processes at once. */
export function ingestCommand(): Command {
  const command = new Command('ingest')
    .summary('store a JSONL file of remember inputs with several worker processes at once')
    .description(
      'store every line of a JSONL file of remember inputs ({"content":"...","tags":[...],"contextPath":"/...","layer":"...","metadata":{...},"key":"..."}) with several worker processes at once; bad lines are reported and the good ones still stored; lines with a "key" are never stored twice, so an interrupted ingest can be run again',
    )
    .argument('<file>', 'a JSONL file, or - for stdin')
    .option('-w, --workers <n>', 'worker processes, each writing through the store', integerParser(1, 64), DEFAULT_WORKERS)
    .option('--batch-size <n>', 'lines per write transaction', integerParser(1, 10_000), DEFAULT_BATCH)
    .option('--rejects <file>', 'also write each bad line to this file, as JSON lines {"line","reason","text"}');
  addJsonOption(addStoreOptions(command));
  withHelp(
    command,
    ['memhub ingest notes.jsonl --workers 4 --rejects rejects.jsonl', `jq -c '{content: .text, tags: [.kind], key: .id}' export.json | memhub ingest - --json`],
    'Exit codes: 0 the good lines were ingested (even if some lines were rejected), 1 a worker failed, 2 usage error (nothing written)',
  );
  return command.action(async (file: string, options: IngestOptions, self: Command) => {
    const target = storeTarget(self);
    const source = inputSource(file);
    const rejectsPath = options.rejects === undefined ? undefined : outputPath(options.rejects, '--rejects');
    const output = new Output({ json: options.json === true });
    // Opened here first: the folder and schema are created once, a bad --dir or --url is a usage
    // error before any worker starts, and the record count before and after goes in the summary.
    // Loaded here: the progress bar library is only needed by this command.
    const [{ IngestProgressBar }, { runIngest }] = await Promise.all([import('../ingest/ingest-progress.js'), import('../ingest/ingest-run.js')]);
    const store = await openTargetStore(target, { mustExist: false, debug: options.debug === true });
    const rejects = rejectsPath === undefined ? undefined : new RejectsFile(rejectsPath);
    let summary: IngestSummary;
    try {
      const before = (await store.stats()).records;
      const started = performance.now();
      const bar = new IngestProgressBar(process.stderr, source.bytes);
      const outcome = await runIngest({
        source,
        target,
        workers: options.workers,
        batchSize: options.batchSize,
        onReject: (reject) => {
          bar.log(`line ${reject.line}: ${reject.reason}`);
          rejects?.add({ line: reject.line, reason: reject.reason, text: reject.text });
        },
        onProgress: (progress) => bar.update(progress),
        onWorkerLog: (worker, line) => bar.log(`worker ${worker}: ${line}`),
      }).finally(() => bar.stop());
      const seconds = (performance.now() - started) / 1000;
      const after = (await store.stats()).records;
      summary = {
        input: source.name,
        workers: options.workers,
        lines: outcome.linesRead,
        ingested: outcome.stored,
        rejected: outcome.rejected,
        blank: outcome.blank,
        storeRecordsBefore: before,
        storeRecordsAfter: after,
        added: after - before,
        seconds: Number(seconds.toFixed(3)),
        recordsPerSecond: Math.round(outcome.stored / Math.max(seconds, 0.001)),
        rejectsFile: rejectsPath ?? null,
        complete: outcome.failures.length === 0,
        failures: outcome.failures,
      };
    } finally {
      await rejects?.close();
      await store.close();
    }
    if (output.json) output.data(summary);
    else printSummary(output, summary);
    if (!summary.complete) {
      throw new CommandFailedError(`ingest incomplete: ${summary.failures.join('; ')}. Run it again: lines with a "key" are not stored twice`);
    }
  });
}

function printSummary(output: Output, summary: IngestSummary): void {
  const { green, yellow } = output.colors;
  output.line(
    `${formatCount(summary.lines)} lines: ${green(`${formatCount(summary.ingested)} ingested`)}, ` +
      `${summary.rejected > 0 ? yellow(`${formatCount(summary.rejected)} rejected`) : '0 rejected'}` +
      `${summary.blank > 0 ? `, ${formatCount(summary.blank)} blank` : ''} ` +
      `in ${summary.seconds.toFixed(1)} s with ${summary.workers} worker${summary.workers === 1 ? '' : 's'} (${formatCount(summary.recordsPerSecond)} records/s)`,
  );
  output.line(
    `the store went from ${formatCount(summary.storeRecordsBefore)} to ${formatCount(summary.storeRecordsAfter)} records (+${formatCount(summary.added)})` +
      (summary.added < summary.ingested ? '; lines whose key was already in the store were not stored again' : ''),
  );
  if (summary.rejected > 0) {
    output.line(`rejected lines are listed on stderr${summary.rejectsFile === null ? '' : ` and in ${summary.rejectsFile}`}; the good lines were ingested`);
  }
}
