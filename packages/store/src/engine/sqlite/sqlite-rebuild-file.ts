import { closeSync, openSync, readSync } from 'node:fs';

/**
 * A layer file opened read-only by a rebuild, to read a line again by its offset (a record's
 * line, when the record is written; a skipped line, when it is quarantined). The rebuild never
 * writes through it: the layer files are rewritten afterwards by LayerMirror, under their locks.
 */
export class LayerFileReader {
  readonly path: string;
  readonly #fd: number;

  constructor(path: string) {
    this.path = path;
    this.#fd = openSync(path, 'r');
  }

  /** `length` bytes at `offset`, fewer at the end of the file. */
  read(offset: number, length: number): Buffer {
    const buffer = Buffer.alloc(length);
    let done = 0;
    while (done < length) {
      const got = readSync(this.#fd, buffer, done, length - done, offset + done);
      if (got === 0) break;
      done += got;
    }
    return done === length ? buffer : buffer.subarray(0, done);
  }

  close(): void {
    closeSync(this.#fd);
  }
}

/** Runs `work` with a reader on `path`, closed after. */
export async function withLayerFileReader<T>(path: string, work: (reader: LayerFileReader) => Promise<T> | T): Promise<T> {
  const reader = new LayerFileReader(path);
  try {
    return await work(reader);
  } finally {
    reader.close();
  }
}
