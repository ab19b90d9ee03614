import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import { formatCount } from './format.js';

/** How far a long command has got. */
export interface ProgressSnapshot {
  /** Records done so far: written, exported, or found already there. */
  readonly records: number;
  /** Lines refused so far (not shown when the command refuses none). */
  readonly rejected?: number;
  /** Units of `total` done (input bytes read, records exported), for the share and the ETA. */
  readonly done?: number;
}

export interface ProgressOptions {
  /** The command's name, at the start of the bar or line: `ingest`, `export`, `import`. */
  readonly label: string;
  /** What `done` counts up to, when known (an input file's size, the store's record count). */
  readonly total?: number | undefined;
  /** What a plain line calls `total`'s unit: `of the input`, `of the records`. */
  readonly totalName?: string;
  /** Whether rejected lines are counted (ingest, import) or cannot happen (export). */
  readonly countsRejected?: boolean;
}

/**
 * The default gap between two plain progress lines when stderr is not a terminal (a log file, a
 * CI job, a pipe): often enough to see a long job move, rarely enough not to flood the log.
 * MEMHUB_PROGRESS_INTERVAL_MS sets another (0 turns the lines off).
 */
const DEFAULT_LINE_INTERVAL_MS = 5_000;

/**
 * The progress of a long command on stderr. On a terminal, one bar (cli-progress): records/s, and
 * the share done and an ETA when the total is known; messages printed meanwhile (rejected lines)
 * go above it, through log(). Anywhere else a bar's carriage returns would only garble the output,
 * so a plain line is written every few seconds instead:
 *
 * ```text
 * memhub ingest: 120,500 records, 23,911 records/s, 3 rejected, 41% of the input, 5.0 s
 * ```
 */
export class ProgressReporter {
  readonly #stream: NodeJS.WriteStream;
  readonly #options: ProgressOptions;
  readonly #total: number | undefined;
  readonly #started = performance.now();
  readonly #bars: MultiBar | undefined;
  readonly #bar: SingleBar | undefined;
  readonly #lineIntervalMs: number;
  #lastLineAt = performance.now();
  /** The latest snapshot, written when the interval is over if no newer update comes first. */
  #latest: ProgressSnapshot | undefined;
  #lineTimer: NodeJS.Timeout | undefined;

  constructor(stream: NodeJS.WriteStream, options: ProgressOptions, env: NodeJS.ProcessEnv = process.env) {
    this.#stream = stream;
    this.#options = options;
    this.#total = options.total !== undefined && options.total > 0 ? options.total : undefined;
    this.#lineIntervalMs = lineInterval(env['MEMHUB_PROGRESS_INTERVAL_MS']);
    if (stream.isTTY !== true) return;
    const rejected = options.countsRejected === true ? ' | {rejected} rejected' : '';
    const format =
      this.#total === undefined
        ? `${options.label} | {records} records | {rate} records/s${rejected} | {duration_formatted}`
        : `${options.label} {bar} {percentage}% | {records} records | {rate} records/s${rejected} | ETA {eta_formatted}`;
    this.#bars = new MultiBar({ stream, format, hideCursor: true, etaBuffer: 40, fps: 8, clearOnComplete: false }, Presets.shades_classic);
    this.#bar = this.#bars.create(this.#total ?? 1, 0, { records: '0', rate: '0', rejected: '0' });
  }

  update(progress: ProgressSnapshot): void {
    if (this.#bar !== undefined) {
      const value = this.#total === undefined ? 0 : Math.min(progress.done ?? 0, this.#total);
      this.#bar.update(value, { records: formatCount(progress.records), rate: this.#rate(progress), rejected: formatCount(progress.rejected ?? 0) });
      return;
    }
    if (this.#lineIntervalMs === 0) return;
    this.#latest = progress;
    const wait = this.#lineIntervalMs - (performance.now() - this.#lastLineAt);
    if (wait <= 0) this.#writeLine();
    // A burst of updates, then a long batch: the last of the burst is still shown, at the end of
    // the interval, not held back until the next update. unref: a pending line never keeps the
    // process alive.
    else this.#lineTimer ??= setTimeout(() => this.#writeLine(), wait).unref();
  }

  #rate(progress: ProgressSnapshot): string {
    const seconds = Math.max((performance.now() - this.#started) / 1000, 0.001);
    return formatCount(Math.round(progress.records / seconds));
  }

  #writeLine(): void {
    clearTimeout(this.#lineTimer);
    this.#lineTimer = undefined;
    const progress = this.#latest;
    if (progress === undefined) return;
    this.#latest = undefined;
    this.#lastLineAt = performance.now();
    const seconds = (performance.now() - this.#started) / 1000;
    const parts = [`${formatCount(progress.records)} records`, `${this.#rate(progress)} records/s`];
    if (this.#options.countsRejected === true) parts.push(`${formatCount(progress.rejected ?? 0)} rejected`);
    if (this.#total !== undefined && progress.done !== undefined) {
      parts.push(`${Math.min(100, Math.floor((progress.done / this.#total) * 100))}% ${this.#options.totalName ?? 'done'}`);
    }
    parts.push(`${seconds.toFixed(1)} s`);
    this.#stream.write(`memhub ${this.#options.label}: ${parts.join(', ')}\n`);
  }

  /** A line of text for stderr, above the bar while it runs. */
  log(line: string): void {
    if (this.#bars === undefined) this.#stream.write(`${line}\n`);
    else this.#bars.log(`${line}\n`);
  }

  stop(): void {
    clearTimeout(this.#lineTimer);
    this.#lineTimer = undefined;
    this.#bars?.stop();
  }
}

function lineInterval(setting: string | undefined): number {
  if (setting === undefined || setting.trim() === '') return DEFAULT_LINE_INTERVAL_MS;
  const value = Number(setting);
  // A setting that is not a number of milliseconds is ignored rather than fatal: progress is a courtesy.
  return Number.isSafeInteger(value) && value >= 0 ? value : DEFAULT_LINE_INTERVAL_MS;
}
