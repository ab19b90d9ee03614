import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { threadId } from 'node:worker_threads';
import type { LockModeName } from './errors.js';

/**
 * What a holder writes into the lock file when it takes the lock, so that a waiter that times
 * out, or `status()`, can say who has it. It is a fixed-size record at offset 0, overwritten in
 * place by the next holder with one pwrite: no truncate, no rename, and the lock file is never
 * unlinked.
 */
export interface HolderMetadata {
  readonly pid: number;
  /** The worker thread id within the process (0 for the main thread). */
  readonly threadId: number;
  readonly host: string;
  readonly user: string;
  readonly purpose: string;
  readonly mode: LockModeName;
  /** ISO 8601 time at which this holder took the lock. */
  readonly since: string;
  /**
   * ISO 8601 time at which this holder closed the lock, its last hold over: written when a process
   * closes its lock (a store's close()), so that a record left by a clean exit is told from one
   * left by a process that died (no `released`). Absent while the process may still take it again.
   */
  readonly released?: string;
}

/** A holder as reported to people: the metadata, joined with what the kernel and this process know. */
export interface HolderInfo {
  /** Process id, when known. */
  readonly pid: number | undefined;
  readonly threadId?: number | undefined;
  readonly host?: string | undefined;
  readonly user?: string | undefined;
  readonly purpose?: string | undefined;
  readonly mode: LockModeName;
  readonly since?: string | undefined;
  /** Whether that process is alive: undefined when it runs on another host and cannot be checked. */
  readonly alive: boolean | undefined;
  /** When that holder closed the lock (a clean end), if it did: see HolderMetadata.released. */
  readonly releasedAt?: string | undefined;
  /** Where the facts came from: the holder's own metadata, the kernel's lock table, or this thread. */
  readonly source: 'metadata' | 'kernel' | 'this-thread';
}

export const METADATA_RECORD_BYTES = 512;
const FORMAT_VERSION = 1;

let cachedIdentity: { host: string; user: string } | undefined;

/** Host and user of this process, looked up once (userInfo throws for uids without a passwd entry). */
export function processIdentity(): { host: string; user: string } {
  if (cachedIdentity === undefined) {
    let user: string;
    try {
      user = userInfo().username;
    } catch {
      user = typeof process.getuid === 'function' ? `uid ${process.getuid()}` : 'unknown';
    }
    cachedIdentity = { host: hostname(), user };
  }
  return cachedIdentity;
}

/** Builds this thread's record for a hold that starts now. */
export function currentHolderMetadata(purpose: string, mode: LockModeName, since: Date): HolderMetadata {
  const { host, user } = processIdentity();
  return { pid: process.pid, threadId, host, user, purpose, mode, since: since.toISOString() };
}

/**
 * Encodes a record as exactly METADATA_RECORD_BYTES bytes: JSON, space padding, then `\n`, so
 * that overwriting a longer record with a shorter one leaves no tail of the old one. A purpose
 * too long for the record is shortened, never the facts that identify the holder.
 */
export function encodeHolderMetadata(metadata: HolderMetadata): Buffer {
  let purpose = metadata.purpose;
  for (;;) {
    const json = JSON.stringify({ v: FORMAT_VERSION, ...metadata, purpose });
    const length = Buffer.byteLength(json);
    if (length < METADATA_RECORD_BYTES) {
      const record = Buffer.alloc(METADATA_RECORD_BYTES, 0x20);
      record.write(json, 0, 'utf8');
      record[METADATA_RECORD_BYTES - 1] = 0x0a;
      return record;
    }
    purpose = `${purpose.slice(0, Math.max(0, purpose.length - (length - METADATA_RECORD_BYTES) - 4))}…`;
  }
}

/** Parses a record; anything that is not one (an empty new file, foreign bytes) gives undefined. */
export function decodeHolderMetadata(bytes: Buffer): HolderMetadata | undefined {
  const text = bytes.toString('utf8').trim();
  if (text === '') return undefined;
  try {
    const value: unknown = JSON.parse(text);
    if (!isRecord(value) || value['v'] !== FORMAT_VERSION) return undefined;
    const { pid, threadId: tid, host, user, purpose, mode, since, released } = value;
    if (
      typeof pid !== 'number' ||
      typeof tid !== 'number' ||
      typeof host !== 'string' ||
      typeof user !== 'string' ||
      typeof purpose !== 'string' ||
      (mode !== 'exclusive' && mode !== 'shared') ||
      typeof since !== 'string' ||
      (released !== undefined && typeof released !== 'string')
    ) {
      return undefined;
    }
    return { pid, threadId: tid, host, user, purpose, mode, since, ...(released === undefined ? {} : { released }) };
  } catch {
    return undefined;
  }
}

/** Writes the record at offset 0 of an open lock file, looping until every byte is written. */
export function writeHolderMetadata(fd: number, record: Buffer): void {
  let written = 0;
  while (written < record.length) {
    written += writeSync(fd, record, written, record.length - written, written);
  }
}

/** Reads the record of the lock file at `path` (through its own fd, opened and closed here). */
export function readHolderMetadata(path: string): HolderMetadata | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    const buffer = Buffer.alloc(METADATA_RECORD_BYTES);
    const length = readSync(fd, buffer, 0, METADATA_RECORD_BYTES, 0);
    return decodeHolderMetadata(buffer.subarray(0, length));
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/**
 * Whether a process is alive. Only meaningful on the host that wrote the record: a pid from
 * another host says nothing here, so the answer is undefined.
 */
export function isHolderAlive(pid: number, host: string): boolean | undefined {
  if (host !== processIdentity().host) return undefined;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** One line that says who holds the lock, for error messages and the CLI. */
export function describeHolders(holders: readonly HolderInfo[], now = Date.now()): string {
  if (holders.length === 0) return 'no holder could be found (it was released as the wait ended)';
  return holders.map((holder) => describeHolder(holder, now)).join('; ');
}

function describeHolder(holder: HolderInfo, now: number): string {
  const who = holder.pid === undefined ? 'an unknown process' : `pid ${holder.pid}`;
  const parts = [`held ${holder.mode} by ${who}`];
  if (holder.host !== undefined) parts.push(`on host ${holder.host}`);
  const details: string[] = [];
  if (holder.user !== undefined) details.push(`user ${holder.user}`);
  if (holder.threadId !== undefined && holder.threadId !== 0) details.push(`thread ${holder.threadId}`);
  if (holder.purpose !== undefined && holder.purpose !== '') details.push(`purpose "${holder.purpose}"`);
  if (holder.source === 'this-thread') details.push('another call chain of this thread');
  if (holder.source === 'kernel') details.push('it wrote no metadata');
  if (details.length > 0) parts.push(`(${details.join(', ')})`);
  if (holder.since !== undefined) {
    const sinceMs = Date.parse(holder.since);
    const ago = Number.isFinite(sinceMs) ? ` (${((now - sinceMs) / 1000).toFixed(1)} s ago)` : '';
    parts.push(`since ${holder.since}${ago}`);
  }
  if (holder.alive === false) parts.push('[stale: that process is gone]');
  return parts.join(' ');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
