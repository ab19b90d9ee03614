import { createReadStream, createWriteStream, fstatSync, statSync, type WriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import { dirname, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { UsageError } from './errors.js';

/** An input the command reads: a file, or stdin for `-`. */
export interface InputSource {
  /** The file's absolute path, or `-` for stdin. */
  readonly name: string;
  /** Its size in bytes when known (a file, or stdin redirected from a file), for progress and ETA. */
  readonly bytes: number | undefined;
  open(): Readable;
}

/**
 * Checks an input argument before anything else happens, so that a missing file is a usage error
 * (exit 2) and no store is opened or created: `-` is stdin, anything else must be a file.
 */
export function inputSource(argument: string): InputSource {
  if (argument === '-') {
    let bytes: number | undefined;
    try {
      // bigint: Node 20's plain stat calls leave their result in an array that node:fs shares with
      // its realpath cache; a pipe's stat left there made a later import resolve pnpm's symlinks
      // short (`Cannot find module 'pg-types'` when the PostgreSQL engine loaded next).
      const stdin = fstatSync(0, { bigint: true });
      if (stdin.isFile()) bytes = Number(stdin.size);
    } catch {
      // stdin closed: the size is unknown, which only means no ETA.
    }
    return { name: '-', bytes, open: () => process.stdin };
  }
  const path = resolve(argument);
  const stat = statSync(path, { throwIfNoEntry: false });
  if (stat === undefined) throw new UsageError(`no such file: ${argument}`);
  if (!stat.isFile()) throw new UsageError(`not a file: ${argument}`);
  return { name: path, bytes: stat.size, open: () => createReadStream(path) };
}

/** Checks that an output file can be created where asked (its folder exists), before any work. */
export function outputPath(argument: string, option: string): string {
  const path = resolve(argument);
  const folder = statSync(dirname(path), { throwIfNoEntry: false });
  if (folder === undefined || !folder.isDirectory()) throw new UsageError(`${option}: the folder of ${argument} does not exist`);
  if (statSync(path, { throwIfNoEntry: false })?.isDirectory() === true) throw new UsageError(`${option}: ${argument} is a folder`);
  return path;
}

/**
 * The `--rejects FILE` of import and ingest: one JSON object a line,
 * `{"line":12,"reason":"Invalid content: is empty","text":"{\"content\":\"\"}"}`, in the order the
 * bad lines were found. Lines end with `\n`, never os.EOL (DESIGN rule 8).
 */
export class RejectsFile {
  readonly path: string;
  readonly #stream: WriteStream;
  #count = 0;

  constructor(path: string) {
    this.path = path;
    this.#stream = createWriteStream(path, { flags: 'w' });
  }

  get count(): number {
    return this.#count;
  }

  add(reject: { readonly line: number; readonly reason: string; readonly text?: string | undefined; readonly offset?: number | undefined }): void {
    this.#count += 1;
    this.#stream.write(`${JSON.stringify(reject)}\n`);
  }

  async close(): Promise<void> {
    this.#stream.end();
    await finished(this.#stream);
  }
}
