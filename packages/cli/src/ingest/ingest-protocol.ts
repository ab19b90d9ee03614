/**
 * The line protocol between `memhub ingest` and its worker processes. Every message is one line
 * of JSON, ending with `\n`.
 *
 * Parent -> worker, on the worker's stdin: one batch a line, `{"batch":7,"lines":[[1201,"{...}"],...]}`,
 * each input line with its 1-based line number in the input. The parent ends stdin when the
 * input is done; the worker then finishes and exits 0.
 *
 * Worker -> parent, on the worker's stdout:
 * - `{"type":"reject","line":1207,"reason":"Invalid content: is empty","text":"{...}"}` for a bad line;
 * - `{"type":"batch","batch":7,"stored":499,"rejected":1,"blank":0}` once a batch is in the store;
 * - `{"type":"error","message":"..."}` before the worker exits 1.
 */

/** One input line: its line number in the input, and its text without the newline. */
export type NumberedLine = readonly [lineNumber: number, text: string];

export interface BatchMessage {
  readonly batch: number;
  readonly lines: readonly NumberedLine[];
}

export interface RejectMessage {
  readonly type: 'reject';
  readonly line: number;
  readonly reason: string;
  readonly text: string;
}

export interface BatchDoneMessage {
  readonly type: 'batch';
  readonly batch: number;
  /** Good lines of the batch, now in the store (written, or already there under their key). */
  readonly stored: number;
  readonly rejected: number;
  /** Empty lines, which are skipped. */
  readonly blank: number;
}

export interface WorkerErrorMessage {
  readonly type: 'error';
  readonly message: string;
}

export type WorkerMessage = RejectMessage | BatchDoneMessage | WorkerErrorMessage;

export function encodeMessage(message: BatchMessage | WorkerMessage): string {
  return `${JSON.stringify(message)}\n`;
}

/** Reads a worker's line; anything else (a stray print) is reported, never guessed at. */
export function decodeWorkerMessage(line: string): WorkerMessage {
  const value = JSON.parse(line) as WorkerMessage;
  if (typeof value !== 'object' || value === null || !['reject', 'batch', 'error'].includes(value.type)) {
    throw new Error(`not an ingest worker message: ${line.slice(0, 200)}`);
  }
  return value;
}
