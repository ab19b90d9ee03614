import { createRequire } from 'node:module';
import type TableConstructor from 'cli-table3';
import picocolors from 'picocolors';

/**
 * cli-table3, loaded the first time a table is printed: most commands print none, and loading it
 * at start-up was a tenth of `memhub --version`'s time. It is CommonJS, so require() loads it
 * synchronously, where it is needed.
 */
let loadedTable: typeof TableConstructor | undefined;
function tableConstructor(): typeof TableConstructor {
  loadedTable ??= createRequire(import.meta.url)('cli-table3') as typeof TableConstructor;
  return loadedTable;
}

/** picocolors' colour functions: each one a no-op when colour is off. */
export type Colors = ReturnType<typeof picocolors.createColors>;

/** Where a command writes: data to stdout, messages to stderr. */
export interface OutputStreams {
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
  readonly env: NodeJS.ProcessEnv;
}

/** Column alignment in a table. */
export type Align = 'left' | 'right';

/**
 * What a command prints, in one of two forms: JSON on stdout for programs (`--json`), or text
 * for people, with aligned tables and colour. Colour only when the stream is a terminal and
 * `NO_COLOR` is not set (no-color.org), so piped output never carries escape codes.
 *
 * ```ts
 * const output = new Output({ json: false });
 * output.table(['layer', 'records'], [['application', '12']], ['left', 'right']);
 * ```
 */
export class Output {
  readonly json: boolean;
  /** Colours for stdout (no-ops when stdout is not a colour terminal). */
  readonly colors: Colors;
  /** Colours for stderr. */
  readonly errorColors: Colors;
  readonly #streams: OutputStreams;

  constructor(options: { readonly json: boolean }, streams: OutputStreams = { stdout: process.stdout, stderr: process.stderr, env: process.env }) {
    this.json = options.json;
    this.#streams = streams;
    this.colors = picocolors.createColors(colourWanted(streams.stdout, streams.env));
    this.errorColors = picocolors.createColors(colourWanted(streams.stderr, streams.env));
  }

  /** Whether stdout is a terminal (for live redraws and widths). */
  get interactive(): boolean {
    return this.#streams.stdout.isTTY === true;
  }

  /** Whether stderr is a terminal (where progress bars go). */
  get interactiveErrors(): boolean {
    return this.#streams.stderr.isTTY === true;
  }

  /** Columns of the terminal on stdout, or undefined when it is not one. */
  get width(): number | undefined {
    return this.interactive ? this.#streams.stdout.columns : undefined;
  }

  get stdout(): NodeJS.WriteStream {
    return this.#streams.stdout;
  }

  get stderr(): NodeJS.WriteStream {
    return this.#streams.stderr;
  }

  /** The command's result as JSON on stdout: one document, indented for reading. */
  data(value: unknown): void {
    this.#streams.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** One line of text for people, on stdout. */
  line(text = ''): void {
    this.#streams.stdout.write(`${text}\n`);
  }

  /** A message that is not the command's data (progress, a note, a rejected line), on stderr. */
  note(text: string): void {
    this.#streams.stderr.write(`${text}\n`);
  }

  warn(text: string): void {
    this.#streams.stderr.write(`${this.errorColors.yellow('memhub: warning:')} ${text}\n`);
  }

  /** An aligned table without borders; the header in bold on a colour terminal. */
  table(head: readonly string[], rows: readonly (readonly string[])[], align: readonly Align[] = []): void {
    const Table = tableConstructor();
    const table = new Table({
      head: head.map((title) => this.colors.bold(title)),
      chars: BORDERLESS,
      style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0, compact: true },
      colAligns: head.map((_, index) => align[index] ?? 'left'),
    });
    table.push(...rows.map((row) => [...row]));
    for (const line of table.toString().split('\n')) this.line(line.trimEnd());
  }

  /** `label  value` lines with the labels aligned. */
  fields(entries: readonly (readonly [string, string])[]): void {
    const width = Math.max(0, ...entries.map(([label]) => label.length));
    for (const [label, value] of entries) this.line(`${this.colors.dim(label.padEnd(width))}  ${value}`);
  }
}

const BORDERLESS = {
  top: '',
  'top-mid': '',
  'top-left': '',
  'top-right': '',
  bottom: '',
  'bottom-mid': '',
  'bottom-left': '',
  'bottom-right': '',
  left: '',
  'left-mid': '',
  mid: '',
  'mid-mid': '',
  right: '',
  'right-mid': '',
  middle: '  ',
};

function colourWanted(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv): boolean {
  if (env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '') return false;
  return stream.isTTY === true;
}
