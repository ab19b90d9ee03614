import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, ftruncateSync, lstatSync, readSync, writeSync } from 'node:fs';
import type { LayerFile } from './layer-file.js';
import { lineRecordId, parseMirrorLine, type MirrorLine, type MirrorOpName } from './mirror-line.js';
import { openRefusingSymlink } from './refuse-symlinks.js';

/** One line of the layer file that is about a record: where it is, and what it did. */
export interface IndexEntry {
  readonly id: string;
  readonly seq: number;
  readonly offset: number;
  readonly length: number;
  readonly op: MirrorOpName;
}

/** What a lookup found, and what it cost. */
export interface IndexLookup {
  /** The record's latest line (a remember or move-in), or undefined when it is not in the layer. */
  readonly line: Extract<MirrorLine, { record: unknown }> | undefined;
  /** Lines of the layer file read to answer (1 when the index covers the record). */
  readonly linesRead: number;
}

/** Whether the index matches the layer file, and how much of it it covers. */
export interface IndexCheck {
  readonly ok: boolean;
  readonly entries: number;
  readonly coveredBytes: number;
  readonly problem?: string;
}

/** The header's first 8 bytes: the format. A file of another format is stale and rebuilt. */
const MAGIC = Buffer.from('MHIDX002');
/**
 * The format before this one, which named the layer file by its inode: a copy of the store
 * (`cp -a`, a backup restored) has other inodes, so such an index is simply not used and rebuilt
 * at the next update; verify() counts it as an index that covers nothing yet, not as a fault.
 */
const PREVIOUS_MAGIC = Buffer.from('MHIDX001');
const HEADER_BYTES = 64;
const ENTRY_BYTES = 32;
/** The layer file's first bytes that name it in the header: a hash of at most this many (fewer while it is smaller). */
const HEAD_BYTES = 4 * 1024;
/** By position in an entry (one byte): a new op goes at the end, so that existing index files read the same. */
const OPS: readonly MirrorOpName[] = ['remember', 'forget', 'move-out', 'move-in', 'update'];

interface Header {
  /** Bytes of the layer file that the entries cover (always at a line boundary). */
  readonly coveredBytes: number;
  readonly entries: number;
  /** SHA-256 of the layer file's first min(HEAD_BYTES, coveredBytes) bytes. */
  readonly headHash: Buffer;
}

/**
 * `layers/<layer>.idx`: for each line of the layer file that is about a record (remember,
 * update, forget, move-out, move-in), the record's id (hashed), seq, byte offset, length and op, so that
 * one record is read from the JSONL file with one read of one line.
 *
 * The file is a 64-byte header and 32-byte entries, appended in the layer file's order. The
 * header: the magic `MHIDX002` (8 bytes), the bytes of the layer file covered (float64 LE), the
 * entry count (float64 LE), 8 bytes unused, and the SHA-256 of the layer file's first
 * min(4 KiB, covered) bytes (32 bytes). It is brought up to date in batches (the mirror decides
 * when: by lines, bytes or time, and on close), never once per line: the new entries are appended
 * with one write and the header rewritten after them, so a crash in between leaves a header that
 * covers only what was complete.
 *
 * The header names the layer file by its content, not by its inode, so that a copy of the pair
 * (`cp -a`, a backup restored, a checkout) is still recognised. A layer file only grows between
 * rebuilds (and a rebuild empties the index in the same hold of the lock), so the covered bytes
 * never change while the index is valid: an index is stale, and rebuilt from the layer file,
 * when it covers more bytes than the file has, when the covered part does not end with a
 * newline, when the file's head hashes differently (another file, a rewritten one), or when its
 * own size is short of header + entries. The caller holds the layer's writer lock throughout.
 */
export class LayerIndex {
  readonly path: string;
  #fd: number | undefined;
  /** Times the index was brought up to date (for stats and tests). */
  updates = 0;
  /** Times it was found stale and rebuilt from scratch. */
  rebuilds = 0;

  constructor(path: string) {
    this.path = path;
  }

  /**
   * The descriptor of the file at the path, checked once per operation: reopened if someone
   * deleted or replaced the index (a stale descriptor would update a file nobody reads). A
   * symlink at the path is refused (StoreSymlinkError): updating through it would truncate and
   * rewrite the file it points to.
   */
  #open(): number {
    if (this.#fd !== undefined) {
      const atPath = lstatSync(this.path, { throwIfNoEntry: false });
      if (atPath !== undefined && atPath.ino === fstatSync(this.#fd).ino) return this.#fd;
      this.close();
    }
    this.#fd = openRefusingSymlink(this.path, constants.O_RDWR | constants.O_CREAT, 0o644);
    return this.#fd;
  }

  /**
   * Brings the index up to the end of the layer file's last complete line. `pending` are entries
   * this process already knows (the lines it just appended, with the offset they start at): used
   * as they are when they begin exactly where the index ends, else the new lines are read.
   */
  update(file: LayerFile, pending?: { readonly from: number; readonly to: number; readonly entries: readonly IndexEntry[] }): void {
    const fd = this.#open();
    const { size } = file.stat();
    let header = validHeader(fd, file, size);
    if (header === undefined) {
      this.rebuilds += 1;
      header = { coveredBytes: 0, entries: 0, headHash: headHash(file, 0) };
      ftruncateSync(fd, 0);
      writeHeader(fd, header);
    }
    let entries: readonly IndexEntry[];
    let coveredBytes: number;
    if (pending !== undefined && pending.from === header.coveredBytes && pending.to <= size) {
      entries = pending.entries;
      coveredBytes = pending.to;
    } else {
      const scanned: IndexEntry[] = [];
      coveredBytes = header.coveredBytes;
      file.forEachLine(header.coveredBytes, size, (offset, length, text) => {
        coveredBytes = offset + length + 1;
        const entry = entryOfLine(text, offset, length);
        if (entry !== undefined) scanned.push(entry);
      });
      entries = scanned;
    }
    if (coveredBytes === header.coveredBytes) return;
    const buffer = Buffer.alloc(entries.length * ENTRY_BYTES);
    entries.forEach((entry, index) => encodeEntry(entry, buffer, index * ENTRY_BYTES));
    writeAll(fd, buffer, HEADER_BYTES + header.entries * ENTRY_BYTES);
    writeHeader(fd, { coveredBytes, entries: header.entries + entries.length, headHash: headHash(file, coveredBytes) });
    this.updates += 1;
  }

  /** Empties the index (the layer file was rebuilt); the next update rebuilds it. */
  reset(): void {
    ftruncateSync(this.#open(), 0);
  }

  /**
   * The record's latest line in the layer file: the index gives the candidates (hash match, last
   * first), the layer file's uncovered tail is read line by line for anything newer.
   */
  lookup(file: LayerFile, id: string): IndexLookup {
    const fd = this.#open();
    const { size } = file.stat();
    const header = validHeader(fd, file, size) ?? { coveredBytes: 0, entries: 0 };
    let linesRead = 0;
    let latest: { op: MirrorOpName; line: MirrorLine | undefined } | undefined;
    // Lines after the covered part are newer than anything indexed.
    file.forEachLine(header.coveredBytes, size, (_offset, _length, text) => {
      linesRead += 1;
      try {
        const line = parseMirrorLine(text);
        if (lineRecordId(line) === id) latest = { op: line.op, line };
      } catch {
        // Not a mirror line: verify() reports it.
      }
    });
    if (latest === undefined) {
      const hash = idHash(id);
      const entries = readEntries(fd, header.entries);
      for (let index = header.entries - 1; index >= 0 && latest === undefined; index -= 1) {
        if (!entries.subarray(index * ENTRY_BYTES, index * ENTRY_BYTES + 8).equals(hash)) continue;
        const entry = decodeEntry(entries, index * ENTRY_BYTES);
        if (entry.op === 'forget' || entry.op === 'move-out') {
          // A tombstone: confirm it is this record's (a hash can collide) by reading its line.
          linesRead += 1;
          const line = parseMirrorLine(file.read(entry.offset, entry.length).toString('utf8'));
          if (lineRecordId(line) === id) latest = { op: line.op, line: undefined };
          continue;
        }
        linesRead += 1;
        const line = parseMirrorLine(file.read(entry.offset, entry.length).toString('utf8'));
        if (lineRecordId(line) === id) latest = { op: line.op, line };
      }
    }
    const line = latest?.line;
    return { line: line !== undefined && (line.op === 'remember' || line.op === 'update' || line.op === 'move-in') ? line : undefined, linesRead };
  }

  /**
   * Checks the index against the layer file: every entry where a fresh scan of the covered part
   * puts it. A lagging index (covering less than the whole file) is fine; a wrong one is not.
   */
  check(file: LayerFile): IndexCheck {
    const fd = this.#open();
    const { size } = file.stat();
    // Empty (not written yet, or emptied by a rebuild), or left by an older memhub: covers nothing yet.
    if (fstatSync(fd).size === 0 || hasPreviousFormat(fd)) return { ok: true, entries: 0, coveredBytes: 0 };
    const header = validHeader(fd, file, size);
    if (header === undefined) return { ok: false, entries: 0, coveredBytes: 0, problem: 'the index does not match the layer file (stale)' };
    const entries = readEntries(fd, header.entries);
    let index = 0;
    let problem: string | undefined;
    file.forEachLine(0, header.coveredBytes, (offset, length, text) => {
      if (problem !== undefined) return;
      const expected = entryOfLine(text, offset, length);
      if (expected === undefined) return;
      if (index >= header.entries) {
        problem = `the line at offset ${offset} has no entry`;
        return;
      }
      const actual = decodeEntry(entries, index * ENTRY_BYTES);
      const hashMatches = entries.subarray(index * ENTRY_BYTES, index * ENTRY_BYTES + 8).equals(idHash(expected.id));
      if (!hashMatches || actual.offset !== offset || actual.length !== length || actual.seq !== expected.seq || actual.op !== expected.op) {
        problem = `entry ${index} does not match the line at offset ${offset}`;
      }
      index += 1;
    });
    if (problem === undefined && index !== header.entries) problem = `${header.entries} entries for ${index} indexed lines`;
    return problem === undefined
      ? { ok: true, entries: header.entries, coveredBytes: header.coveredBytes }
      : { ok: false, entries: header.entries, coveredBytes: header.coveredBytes, problem };
  }

  close(): void {
    if (this.#fd === undefined) return;
    closeSync(this.#fd);
    this.#fd = undefined;
  }

}

/**
 * The header, if it is one and matches the layer file (`size` bytes now); undefined for a stale,
 * empty or older-format index.
 */
function validHeader(fd: number, file: LayerFile, size: number): Header | undefined {
  const indexSize = fstatSync(fd).size;
  if (indexSize < HEADER_BYTES) return undefined;
  const buffer = Buffer.alloc(HEADER_BYTES);
  if (readInto(fd, buffer, 0) < HEADER_BYTES || !buffer.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  const header: Header = { coveredBytes: buffer.readDoubleLE(8), entries: buffer.readDoubleLE(16), headHash: buffer.subarray(32, 64) };
  if (!Number.isSafeInteger(header.coveredBytes) || header.coveredBytes < 0 || header.coveredBytes > size) return undefined;
  if (!Number.isSafeInteger(header.entries) || header.entries < 0) return undefined;
  // Entries past the count are the remains of an update that crashed before its header: ignored, then overwritten.
  if (indexSize < HEADER_BYTES + header.entries * ENTRY_BYTES) return undefined;
  // Cheap checks first: the covered part ends a line, then the file's head is the one indexed.
  if (header.coveredBytes > 0 && file.read(header.coveredBytes - 1, 1)[0] !== 0x0a) return undefined;
  if (!headHash(file, header.coveredBytes).equals(header.headHash)) return undefined;
  return header;
}

/** Whether the index was written by the format before this one (MHIDX001). */
function hasPreviousFormat(fd: number): boolean {
  const magic = Buffer.alloc(PREVIOUS_MAGIC.length);
  return readInto(fd, magic, 0) === magic.length && magic.equals(PREVIOUS_MAGIC);
}

/**
 * What names the layer file in the header: the SHA-256 of its first min(HEAD_BYTES, coveredBytes)
 * bytes. Those bytes never change while the index is valid (the file only grows), a copy has
 * them too, and another file (a rebuilt, replaced or restored one) almost never has the same
 * first line: each holds a record id and a seq.
 */
function headHash(file: LayerFile, coveredBytes: number): Buffer {
  return createHash('sha256')
    .update(file.read(0, Math.min(HEAD_BYTES, coveredBytes)))
    .digest();
}

/** The index entry of a line, or undefined for lines that are about no single record (or are not mirror lines). */
export function entryOfLine(text: string, offset: number, length: number): IndexEntry | undefined {
  let line: MirrorLine;
  try {
    line = parseMirrorLine(text);
  } catch {
    return undefined;
  }
  const id = lineRecordId(line);
  return id === undefined ? undefined : { id, seq: line.seq, offset, length, op: line.op };
}

/**
 * 8 bytes of hash of the id: two 32-bit FNV-1a hashes of its UTF-16 units with different offset
 * bases. Ids of any shape spread evenly, and it costs a fraction of a cryptographic hash, which
 * showed in the append path; a collision only costs one more line read (lookup confirms the id).
 */
function idHash(id: string): Buffer {
  let low = 0x811c9dc5;
  let high = 0x01000193 ^ 0x9e3779b9;
  for (let index = 0; index < id.length; index += 1) {
    const unit = id.charCodeAt(index);
    low = Math.imul(low ^ unit, 0x01000193);
    high = Math.imul(high ^ unit, 0x01000193) ^ (low >>> 15);
  }
  const hash = Buffer.alloc(8);
  hash.writeUInt32LE(low >>> 0, 0);
  hash.writeUInt32LE(high >>> 0, 4);
  return hash;
}

function encodeEntry(entry: IndexEntry, buffer: Buffer, at: number): void {
  idHash(entry.id).copy(buffer, at);
  buffer.writeDoubleLE(entry.seq, at + 8);
  buffer.writeDoubleLE(entry.offset, at + 16);
  buffer.writeUInt32LE(entry.length, at + 24);
  buffer.writeUInt8(OPS.indexOf(entry.op), at + 28);
}

function decodeEntry(buffer: Buffer, at: number): Omit<IndexEntry, 'id'> {
  return {
    seq: buffer.readDoubleLE(at + 8),
    offset: buffer.readDoubleLE(at + 16),
    length: buffer.readUInt32LE(at + 24),
    op: OPS[buffer.readUInt8(at + 28)] ?? 'remember',
  };
}

function writeHeader(fd: number, header: Header): void {
  const buffer = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(buffer, 0);
  buffer.writeDoubleLE(header.coveredBytes, 8);
  buffer.writeDoubleLE(header.entries, 16);
  header.headHash.copy(buffer, 32);
  writeAll(fd, buffer, 0);
}

function readEntries(fd: number, count: number): Buffer {
  const buffer = Buffer.alloc(count * ENTRY_BYTES);
  readInto(fd, buffer, HEADER_BYTES);
  return buffer;
}

/** Fills `buffer` from `position` on, or as much of it as the file has; returns the bytes read. */
function readInto(fd: number, buffer: Buffer, position: number): number {
  let done = 0;
  while (done < buffer.length) {
    const got = readSync(fd, buffer, done, buffer.length - done, position + done);
    if (got === 0) break;
    done += got;
  }
  return done;
}

function writeAll(fd: number, buffer: Buffer, position: number): void {
  let done = 0;
  while (done < buffer.length) done += writeSync(fd, buffer, done, buffer.length - done, position + done);
}
