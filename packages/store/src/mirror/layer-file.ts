import { closeSync, constants, fdatasyncSync, fstatSync, ftruncateSync, lstatSync, readSync, writeSync } from 'node:fs';
import { openRefusingSymlink } from './refuse-symlinks.js';

/** Where a file's last line is, and what follows it that is not a line. */
export interface FileTail {
  /** Size of the file when it was read. */
  readonly size: number;
  /** The last newline-terminated line (without its `\n`) and its offset, if there is one. */
  readonly lastLine: { readonly offset: number; readonly text: string } | undefined;
  /** Bytes after the last `\n`: a line torn by a crash mid-append. */
  readonly torn: { readonly offset: number; readonly bytes: Buffer } | undefined;
}

const NEWLINE = 0x0a;
/** Reading backwards for the last line starts with this much, and doubles up to TAIL_CHUNK. */
const FIRST_TAIL_CHUNK = 4 * 1024;
const TAIL_CHUNK = 64 * 1024;

/**
 * This process's descriptor on one JSONL file, opened once and kept (reopening one per append
 * would cost two system calls each time; libuv opens every descriptor close-on-exec). Opened with
 * O_APPEND, so that every write lands at the end whatever the offset; the caller holds the
 * layer's writer lock around every write. The file is never replaced by a rename: other
 * processes keep it open, and a rename would leave them appending to a file nobody reads (DESIGN
 * rule 8). A rebuild truncates it in place instead. A symlink at the path is refused
 * (StoreSymlinkError), never followed: appending through it would write to another file.
 */
export class LayerFile {
  readonly path: string;
  #fd: number | undefined;

  constructor(path: string) {
    this.path = path;
  }

  #descriptor(): number {
    this.#fd ??= openRefusingSymlink(this.path, constants.O_RDWR | constants.O_CREAT | constants.O_APPEND, 0o644);
    return this.#fd;
  }

  /** Inode and size, from the open descriptor. */
  stat(): { readonly ino: number; readonly size: number } {
    const stat = fstatSync(this.#descriptor());
    return { ino: stat.ino, size: stat.size };
  }

  /**
   * Makes sure the descriptor is the file at the path: if someone deleted or replaced the file,
   * appending to the old inode would write where nobody reads, so the descriptor moves to the
   * file at the path (created if missing). Returns whether it moved. A symlink put in the file's
   * place is the link's own inode here (lstat), so the descriptor moves, and the open refuses it.
   */
  followPath(): boolean {
    if (this.#fd === undefined) return false;
    const atPath = lstatSync(this.path, { throwIfNoEntry: false });
    if (atPath !== undefined && atPath.ino === fstatSync(this.#fd).ino) return false;
    this.close();
    this.#descriptor();
    return true;
  }

  /** Reads `length` bytes at `offset` (fewer at the end of the file). */
  read(offset: number, length: number): Buffer {
    const buffer = Buffer.alloc(length);
    let done = 0;
    while (done < length) {
      const got = readSync(this.#descriptor(), buffer, done, length - done, offset + done);
      if (got === 0) break;
      done += got;
    }
    return done === length ? buffer : buffer.subarray(0, done);
  }

  /**
   * The last complete line and any torn bytes after it, reading backwards from the end in chunks
   * (the file is never read whole).
   */
  tail(): FileTail {
    const { size } = this.stat();
    if (size === 0) return { size, lastLine: undefined, torn: undefined };
    const lastNewline = this.#lastNewlineBefore(size);
    const torn = lastNewline === size - 1 ? undefined : { offset: lastNewline + 1, bytes: this.read(lastNewline + 1, size - lastNewline - 1) };
    if (lastNewline < 0) return { size, lastLine: undefined, torn };
    const start = this.#lastNewlineBefore(lastNewline) + 1;
    return { size, lastLine: { offset: start, text: this.read(start, lastNewline - start).toString('utf8') }, torn };
  }

  /** The line that ends just before `end` (the offset of its `\n` + 1), or undefined at the start. */
  lineBefore(end: number): { readonly offset: number; readonly text: string } | undefined {
    if (end <= 0) return undefined;
    const start = this.#lastNewlineBefore(end - 1) + 1;
    return { offset: start, text: this.read(start, end - 1 - start).toString('utf8') };
  }

  /**
   * Calls `visit` for each complete line between `from` and `to` (offsets at line starts), in
   * order, reading in chunks: never the whole file in memory, one line at most beyond a chunk.
   * Bytes after the last `\n` before `to` are not a line and are left out.
   */
  forEachLine(from: number, to: number, visit: (offset: number, length: number, text: string) => void): void {
    let carry: Buffer = Buffer.alloc(0);
    let carryOffset = from;
    for (let position = from; position < to; ) {
      const chunk = this.read(position, Math.min(TAIL_CHUNK, to - position));
      if (chunk.length === 0) break;
      position += chunk.length;
      const bytes = carry.length === 0 ? chunk : Buffer.concat([carry, chunk]);
      let start = 0;
      for (let newline = bytes.indexOf(NEWLINE); newline >= 0; newline = bytes.indexOf(NEWLINE, start)) {
        visit(carryOffset + start, newline - start, bytes.toString('utf8', start, newline));
        start = newline + 1;
      }
      carryOffset += start;
      carry = Buffer.from(bytes.subarray(start));
    }
  }

  /** Offset of the last `\n` before `end`, or -1. */
  #lastNewlineBefore(end: number): number {
    let chunkEnd = end;
    let chunkSize = FIRST_TAIL_CHUNK;
    while (chunkEnd > 0) {
      const chunkStart = Math.max(0, chunkEnd - chunkSize);
      chunkSize = Math.min(TAIL_CHUNK, chunkSize * 2);
      const chunk = this.read(chunkStart, chunkEnd - chunkStart);
      const index = chunk.lastIndexOf(NEWLINE);
      if (index >= 0) return chunkStart + index;
      chunkEnd = chunkStart;
    }
    return -1;
  }

  /**
   * Appends every byte: write(2) may write less than asked (a signal, a nearly full disk), so it
   * loops until all is written (DESIGN rule 8). On an error part of the data may be in the file;
   * the caller treats the file's tail as torn then.
   */
  append(data: Buffer): void {
    const fd = this.#descriptor();
    let done = 0;
    while (done < data.length) done += writeSync(fd, data, done, data.length - done);
  }

  /** Cuts the file to `length` bytes, in place. */
  truncate(length: number): void {
    ftruncateSync(this.#descriptor(), length);
  }

  /** Makes the appended data durable (durability 'full'). */
  sync(): void {
    fdatasyncSync(this.#descriptor());
  }

  close(): void {
    if (this.#fd === undefined) return;
    closeSync(this.#fd);
    this.#fd = undefined;
  }
}
