import { closeSync, constants, readSync, writeSync } from 'node:fs';
import { openRefusingSymlink } from './refuse-symlinks.js';

/** Why bytes were taken out of a layer file, and what they were. One JSON line each. */
export interface QuarantineEntry {
  readonly quarantinedAt: string;
  /** The layer file they were cut from, and where. */
  readonly file: string;
  readonly offset: number;
  readonly bytes: number;
  readonly reason: string;
  /** The bytes: as text when they are valid UTF-8, else base64. */
  readonly encoding: 'utf8' | 'base64';
  readonly fragment: string;
}

/**
 * `layers/<layer>.jsonl.quarantine`: bytes cut out of a layer file (a torn last line, a line
 * that is not a mirror line), kept so that nothing is thrown away unseen. Append-only; a person
 * reads it, memhub only appends to it and counts its lines. A symlink in its place is refused
 * (StoreSymlinkError), like the layer's other files.
 */
export function quarantine(layerFile: string, offset: number, bytes: Buffer, reason: string): QuarantineEntry {
  const text = bytes.toString('utf8');
  const isText = Buffer.from(text, 'utf8').equals(bytes);
  const entry: QuarantineEntry = {
    quarantinedAt: new Date().toISOString(),
    file: layerFile,
    offset,
    bytes: bytes.length,
    reason,
    encoding: isText ? 'utf8' : 'base64',
    fragment: isText ? text : bytes.toString('base64'),
  };
  const fd = openRefusingSymlink(`${layerFile}.quarantine`, constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND, 0o644);
  try {
    const line = Buffer.from(`${JSON.stringify(entry)}\n`, 'utf8');
    for (let done = 0; done < line.length; ) done += writeSync(fd, line, done, line.length - done);
  } finally {
    closeSync(fd);
  }
  return entry;
}

/** How many fragments a layer's quarantine file holds (its lines), read in chunks. */
export function quarantinedCount(layerFile: string): number {
  let fd: number;
  try {
    fd = openRefusingSymlink(`${layerFile}.quarantine`, constants.O_RDONLY);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
  try {
    const buffer = Buffer.alloc(64 * 1024);
    let lines = 0;
    for (let got = readSync(fd, buffer); got > 0; got = readSync(fd, buffer)) {
      for (let index = buffer.indexOf(0x0a); index >= 0 && index < got; index = buffer.indexOf(0x0a, index + 1)) lines += 1;
    }
    return lines;
  } finally {
    closeSync(fd);
  }
}
