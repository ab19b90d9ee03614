import { availableParallelism } from 'node:os';
import { Command } from 'commander';
import { withHelp } from '../command-help.js';
import { CommandFailedError, CommandInterruptedError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import { formatCount } from '../format.js';
import { inputSource, outputPath, RejectsFile } from '../input-files.js';
import { Output } from '../output.js';
import { integerParser } from '../parse-values.js';
import { addJsonOption, addScopeOption, addStoreOptions, openTargetStore, storeTarget } from '../store-target.js';

interface IngestOptions {
  readonly workers: number;
  readonly batchSize: number;
  readonly fromLine: number;
  readonly rejects?: string;
  readonly json?: boolean;
  readonly debug?: boolean;
}

/** What `memhub ingest --json` prints. */
export interface IngestSummary {
  /** The input file, or `-` for stdin. */
  readonly input: string;
  readonly workers: number;
  /** Lines read from the input, blank ones included (from `fromLine` on). */
  readonly lines: number;
  /** The first line ingested (1 unless --from-line). */
  readonly fromLine: number;
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
  /** True when every line was ingested; false when a worker failed (exit code 1) or the run was interrupted (130). */
  readonly complete: boolean;
  readonly failures: readonly string[];
  /** Stopped by Ctrl-C or SIGTERM before the end of the input (exit code 130). */
  readonly interrupted: boolean;
  /**
   * Interrupted: the line to finish from (`--from-line`), every line before it ingested and none
   * after it written. Null when the run was not interrupted, or a worker failed too.
   */
  readonly resumeFromLine: number | null;
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
    .option('--from-line <n>', 'start at this line (1-based): what an interrupted ingest says to finish with', integerParser(1), 1)
    .option('--rejects <file>', 'also write each bad line to this file, as JSON lines {"line","reason","text"}');
  addJsonOption(addScopeOption(addStoreOptions(command)));
  withHelp(
    command,
    ['memhub ingest notes.jsonl --workers 4 --rejects rejects.jsonl', `jq -c '{content: .text, tags: [.kind], key: .id}' export.json | memhub ingest - --json`],
    'Ctrl-C stops handing out lines, finishes the batches in flight, and prints the summary and the --from-line that finishes the job (a second Ctrl-C stops at once).\n' +
      'Exit codes: 0 the good lines were ingested (even if some lines were rejected), 1 a worker failed, 2 usage error (nothing written), 130 interrupted',
  );
  return command.action(async (file: string, options: IngestOptions, self: Command) => {
    const target = storeTarget(self);
    const source = inputSource(file);
    const rejectsPath = options.rejects === undefined ? undefined : outputPath(options.rejects, '--rejects');
    const output = new Output({ json: options.json === true });
    // Opened here first: the folder and schema are created once, a bad --dir or --url is a usage
    // error before any worker starts, and the record count before and after goes in the summary.
    // Loaded here: the progress bar library is only needed by this command.
    const [{ ProgressReporter }, { runIngest }] = await Promise.all([import('../progress-reporter.js'), import('../ingest/ingest-run.js')]);
    const store = await openTargetStore(target, { mustExist: false, debug: options.debug === true });
    const rejects = rejectsPath === undefined ? undefined : new RejectsFile(rejectsPath);
    let summary: IngestSummary;
    try {
      const before = (await store.stats()).records;
      const started = performance.now();
      const bar = new ProgressReporter(process.stderr, { label: 'ingest', total: source.bytes, totalName: 'of the input', countsRejected: true });
      const interrupt = new InterruptHandler(() =>
        bar.log('memhub ingest: interrupted; finishing the batches in flight (Ctrl-C again stops at once, leaving them to chance)'),
      );
      const outcome = await runIngest({
        source,
        target,
        workers: options.workers,
        batchSize: options.batchSize,
        fromLine: options.fromLine,
        signal: interrupt.signal,
        onReject: (reject) => {
          bar.log(`line ${reject.line}: ${reject.reason}`);
          rejects?.add({ line: reject.line, reason: reject.reason, text: reject.text });
        },
        onProgress: (progress) => bar.update({ records: progress.stored, rejected: progress.rejected, done: progress.bytesDone }),
        onWorkerLog: (worker, line) => bar.log(`worker ${worker}: ${line}`),
      }).finally(() => {
        bar.stop();
        interrupt.dispose();
      });
      const seconds = (performance.now() - started) / 1000;
      const after = (await store.stats()).records;
      summary = {
        input: source.name,
        workers: options.workers,
        lines: outcome.linesRead,
        fromLine: options.fromLine,
        ingested: outcome.stored,
        rejected: outcome.rejected,
        blank: outcome.blank,
        storeRecordsBefore: before,
        storeRecordsAfter: after,
        added: after - before,
        seconds: Number(seconds.toFixed(3)),
        recordsPerSecond: Math.round(outcome.stored / Math.max(seconds, 0.001)),
        rejectsFile: rejectsPath ?? null,
        complete: outcome.failures.length === 0 && !outcome.interrupted,
        failures: outcome.failures,
        interrupted: outcome.interrupted,
        resumeFromLine: outcome.resumeFromLine,
      };
    } finally {
      await rejects?.close();
      await store.close();
    }
    if (output.json) output.data(summary);
    else printSummary(output, summary);
    if (summary.failures.length > 0) {
      throw new CommandFailedError(`ingest incomplete: ${summary.failures.join('; ')}. Run it again: lines with a "key" are not stored twice`);
    }
    if (summary.interrupted) throw new CommandInterruptedError(howToFinish(file, summary));
  });
}

/**
 * What an interrupted ingest tells its user. Every line before resumeFromLine is in the store and
 * none after it was handed to a worker, so --from-line adds exactly what is missing, keyed lines or
 * not; running the same command again as it was also works for lines that carry a key.
 */
function howToFinish(file: string, summary: IngestSummary): string {
  const rest = summary.resumeFromLine === null ? '' : ` To finish, run the same command with --from-line ${summary.resumeFromLine}`;
  const input = file === '-' ? ' (with the same input on stdin)' : '';
  return `ingest interrupted after ${formatCount(summary.ingested)} lines ingested.${rest}${rest === '' ? '' : input}; or run it again as it was: lines with a "key" are not stored twice.`;
}

/**
 * The first Ctrl-C (or SIGTERM) aborts `signal`: the run stops handing out lines and finishes the
 * batches in flight. A second one exits at once, as a user pressing it twice means.
 */
class InterruptHandler {
  readonly #controller = new AbortController();
  readonly #onFirst: () => void;
  readonly #listener = () => {
    if (!this.#controller.signal.aborted) {
      this.#controller.abort();
      this.#onFirst();
      return;
    }
    process.stderr.write('memhub ingest: stopped at once; the batches in flight may or may not have been written (lines with a "key" are safe to ingest again)\n');
    process.exit(ExitCode.interrupted);
  };

  constructor(onFirst: () => void) {
    this.#onFirst = onFirst;
    process.on('SIGINT', this.#listener);
    process.on('SIGTERM', this.#listener);
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  dispose(): void {
    process.off('SIGINT', this.#listener);
    process.off('SIGTERM', this.#listener);
  }
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
