import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import { formatCount } from '../format.js';
import type { IngestProgress } from './ingest-run.js';

/**
 * The one progress bar of an ingest, on stderr when stderr is a terminal: records/s, and the
 * share of the input read and an ETA when the input's size is known (a file). The bar runs over
 * input bytes, since the number of lines is not known before the end. Messages printed while it
 * runs (rejected lines) go above it, through log(). Off a terminal there is no bar, and log()
 * writes straight to stderr.
 */
export class IngestProgressBar {
  readonly #stream: NodeJS.WriteStream;
  readonly #totalBytes: number | undefined;
  readonly #started = performance.now();
  readonly #bars: MultiBar | undefined;
  readonly #bar: SingleBar | undefined;

  constructor(stream: NodeJS.WriteStream, totalBytes: number | undefined) {
    this.#stream = stream;
    this.#totalBytes = totalBytes !== undefined && totalBytes > 0 ? totalBytes : undefined;
    if (stream.isTTY !== true) return;
    const format =
      this.#totalBytes === undefined
        ? 'ingest | {records} records | {rate} records/s | {rejected} rejected | {duration_formatted}'
        : 'ingest {bar} {percentage}% | {records} records | {rate} records/s | {rejected} rejected | ETA {eta_formatted}';
    this.#bars = new MultiBar({ stream, format, hideCursor: true, etaBuffer: 40, fps: 8, clearOnComplete: false }, Presets.shades_classic);
    this.#bar = this.#bars.create(this.#totalBytes ?? 1, 0, { records: '0', rate: '0', rejected: '0' });
  }

  update(progress: IngestProgress): void {
    if (this.#bar === undefined) return;
    const seconds = Math.max((performance.now() - this.#started) / 1000, 0.001);
    const value = this.#totalBytes === undefined ? 0 : Math.min(progress.bytesDone, this.#totalBytes);
    this.#bar.update(value, {
      records: formatCount(progress.stored),
      rate: formatCount(Math.round(progress.stored / seconds)),
      rejected: formatCount(progress.rejected),
    });
  }

  /** A line of text for stderr, above the bar while it runs. */
  log(line: string): void {
    if (this.#bars === undefined) this.#stream.write(`${line}\n`);
    else this.#bars.log(`${line}\n`);
  }

  stop(): void {
    this.#bars?.stop();
  }
}
