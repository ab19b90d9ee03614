/** One line of an NDJSON stream, without its `\n`. */
export interface NdjsonLine {
  /** 1-based. */
  readonly lineNumber: number;
  /** Byte offset of the line's first byte in the stream. */
  readonly offset: number;
  /** Bytes of the line, without the `\n`. */
  readonly length: number;
  /** The line as UTF-8 text, or undefined when it was longer than `maxLineBytes` (its bytes were skipped). */
  readonly text: string | undefined;
  /** Whether the line ended with `\n`; false only for the last line of a stream that does not end with one. */
  readonly terminated: boolean;
}

export interface NdjsonLineOptions {
  /** Lines longer than this are reported with `text` undefined instead of being held in memory. Default 64 MiB. */
  readonly maxLineBytes?: number;
  /** The offset of the stream's first byte in its file, when reading from the middle of one. Default 0. */
  readonly startOffset?: number;
}

const DEFAULT_MAX_LINE_BYTES = 64 * 1024 * 1024;
const NEWLINE = 0x0a;

/**
 * Splits a byte stream into lines at `\n`, keeping each line's byte offset, and never holds more
 * than one line (and one chunk) in memory. The `ndjson` package parses too, but it drops bad lines
 * without saying where they were (or stops at the first one), so memhub splits lines itself and
 * reports every bad line by number and byte offset. Blank lines are yielded too (text '').
 */
export async function* ndjsonLines(
  source: AsyncIterable<Buffer | Uint8Array | string>,
  options: NdjsonLineOptions = {},
): AsyncGenerator<NdjsonLine> {
  const maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  let parts: Buffer[] = [];
  let partsLength = 0;
  let oversized = false;
  let lineStart = options.startOffset ?? 0;
  let lineNumber = 0;
  for await (const chunk of source) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let from = 0;
    for (let newline = bytes.indexOf(NEWLINE, from); newline >= 0; newline = bytes.indexOf(NEWLINE, from)) {
      const piece = bytes.subarray(from, newline);
      const length = partsLength + piece.length;
      lineNumber += 1;
      const text = oversized || length > maxLineBytes ? undefined : Buffer.concat([...parts, piece]).toString('utf8');
      yield { lineNumber, offset: lineStart, length, text, terminated: true };
      lineStart += length + 1;
      parts = [];
      partsLength = 0;
      oversized = false;
      from = newline + 1;
    }
    const rest = bytes.subarray(from);
    if (rest.length > 0) {
      partsLength += rest.length;
      if (oversized || partsLength > maxLineBytes) {
        oversized = true;
        parts = [];
      } else {
        // Copied: the source may reuse its chunk buffers.
        parts.push(Buffer.from(rest));
      }
    }
  }
  if (partsLength > 0) {
    lineNumber += 1;
    const text = oversized ? undefined : Buffer.concat(parts).toString('utf8');
    yield { lineNumber, offset: lineStart, length: partsLength, text, terminated: false };
  }
}
