import { closeSync, openSync, readSync, writeSync } from 'node:fs';

/**
 * The shared counter that the contenders increment under the lock: a fixed-width text record
 * ("<count> <pid of last writer>\n") read and overwritten in place at offset 0 through a
 * descriptor kept open.
 *
 * In place, not readFileSync/writeFileSync: writeFileSync truncates, and on ext4 a write after a
 * truncate to zero makes close() start writeback at once (the auto_da_alloc heuristic), which
 * costs ~0.2 ms a cycle here and would swamp the lock being measured. A pread/pwrite pair costs
 * a few microseconds, like the small critical sections a lock usually guards.
 */
const COUNT_WIDTH = 15;
const PID_WIDTH = 10;
const RECORD_BYTES = COUNT_WIDTH + 1 + PID_WIDTH + 1;

function encode(count: number, writerPid: number): Buffer {
  return Buffer.from(`${String(count).padStart(COUNT_WIDTH)} ${String(writerPid).padStart(PID_WIDTH)}\n`, 'latin1');
}

export interface CounterRecord {
  readonly count: number;
  /** 0 when the counter was just reset. */
  readonly writerPid: number;
}

export class CounterFile {
  readonly #fd: number;
  readonly #buffer = Buffer.alloc(RECORD_BYTES);

  private constructor(fd: number) {
    this.#fd = fd;
  }

  /** Creates (or truncates) the counter file with a count of 0. */
  static reset(path: string): void {
    const counter = new CounterFile(openSync(path, 'w+'));
    try {
      counter.#write(0, 0);
    } finally {
      counter.close();
    }
  }

  /** Opens an existing counter file for reading and incrementing. */
  static open(path: string): CounterFile {
    return new CounterFile(openSync(path, 'r+'));
  }

  read(): CounterRecord {
    const length = readSync(this.#fd, this.#buffer, 0, RECORD_BYTES, 0);
    const text = this.#buffer.toString('latin1', 0, length);
    const [countText = '', pidText = ''] = text.trim().split(/\s+/);
    const count = Number(countText);
    const writerPid = Number(pidText);
    if (length !== RECORD_BYTES || !Number.isInteger(count) || !Number.isInteger(writerPid)) {
      throw new Error(`counter file holds ${JSON.stringify(text)}, not a counter record`);
    }
    return { count, writerPid };
  }

  /** Read-modify-write: loses updates unless the caller holds a lock that excludes the others. */
  increment(): CounterRecord {
    const previous = this.read();
    this.#write(previous.count + 1, process.pid);
    return previous;
  }

  close(): void {
    closeSync(this.#fd);
  }

  #write(count: number, writerPid: number): void {
    const record = encode(count, writerPid);
    let written = 0;
    while (written < record.length) written += writeSync(this.#fd, record, written, record.length - written, written);
  }
}
