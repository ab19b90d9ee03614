import { readSync, writeSync } from 'node:fs';
import { threadId } from 'node:worker_threads';
import { METADATA_RECORD_BYTES } from './holder-metadata.js';

/**
 * A note of the longest-waiting thread, kept in the lock file right after the holder record.
 * Waiters in other processes cannot queue in the kernel (they poll, or are woken by a change of
 * the file), so without it a thread that releases and at once re-acquires would keep the lock
 * for as long as it has work, and among many waiters the unlucky ones could lose every race.
 * With it, everyone who tries the lock can see who has waited longest, and let that one in.
 *
 * 64 bytes at offset 512: `{"s":<waiting since, epoch ms>,"r":<refreshed, epoch ms>,"p":<pid>,"t":<thread id>}`,
 * space padded, `\n`. A waiter replaces the note only when it is empty, stale, its own, or of a
 * thread that has waited less long; it refreshes its own while it waits and clears it once it
 * holds the lock or stops waiting. Best effort throughout: a lost or stale note costs fairness
 * for at most WAITER_MARKER_FRESH_MS, never exclusion.
 */
export const WAITER_MARKER_OFFSET = METADATA_RECORD_BYTES;
const WAITER_MARKER_BYTES = 64;

/**
 * How long a note counts as a live waiter; a waiter refreshes its own at half this period. A
 * waiter that died without clearing its note delays others by at most this long.
 */
export const WAITER_MARKER_FRESH_MS = 100;

/** After the note, one byte that a releasing holder rewrites so that watching waiters wake up. */
const WAKE_OFFSET = WAITER_MARKER_OFFSET + WAITER_MARKER_BYTES;
const WAKE_BYTE = Buffer.from('\n');
const EMPTY_MARKER = (() => {
  const record = Buffer.alloc(WAITER_MARKER_BYTES, 0x20);
  record[WAITER_MARKER_BYTES - 1] = 0x0a;
  return record;
})();

export interface WaiterMarker {
  /** Epoch ms since which the noted thread has been waiting. */
  readonly since: number;
  /** Epoch ms of its last refresh. */
  readonly refreshedAt: number;
  /** Whether the note is this thread's own. */
  readonly own: boolean;
}

/** Whether a note is a live waiter of another thread, as of `now`. */
export function isLiveOtherWaiter(marker: WaiterMarker | undefined, now: number): marker is WaiterMarker {
  return (
    marker !== undefined &&
    !marker.own &&
    now - marker.refreshedAt < WAITER_MARKER_FRESH_MS &&
    marker.refreshedAt <= now + WAITER_MARKER_FRESH_MS
  );
}

/** The note in the file, or undefined when there is none (or it cannot be read or parsed). */
export function readWaiterMarker(fd: number): WaiterMarker | undefined {
  const buffer = Buffer.alloc(WAITER_MARKER_BYTES);
  let length: number;
  try {
    length = readSync(fd, buffer, 0, WAITER_MARKER_BYTES, WAITER_MARKER_OFFSET);
  } catch {
    return undefined;
  }
  const text = buffer.subarray(0, length).toString('utf8').trim();
  if (text === '') return undefined;
  try {
    const marker = JSON.parse(text) as { s?: unknown; r?: unknown; p?: unknown; t?: unknown };
    if (typeof marker.s !== 'number' || typeof marker.r !== 'number') return undefined;
    return { since: marker.s, refreshedAt: marker.r, own: marker.p === process.pid && marker.t === threadId };
  } catch {
    return undefined;
  }
}

/** Writes "this thread has been waiting since `since`, as of `now`". */
export function writeWaiterMarker(fd: number, since: number, now: number): void {
  const record = Buffer.from(EMPTY_MARKER);
  record.write(JSON.stringify({ s: since, r: now, p: process.pid, t: threadId }), 0, 'utf8');
  tryWrite(fd, record, WAITER_MARKER_OFFSET);
}

/** Empties the note (the caller checked that it is its own). */
export function clearWaiterMarker(fd: number): void {
  tryWrite(fd, EMPTY_MARKER, WAITER_MARKER_OFFSET);
}

/**
 * Rewrites one byte of the lock file after a release: waiters watch the file (inotify, through
 * fs.watch), so they try at once instead of at their next poll.
 */
export function wakeWaiters(fd: number): void {
  tryWrite(fd, WAKE_BYTE, WAKE_OFFSET);
}

function tryWrite(fd: number, bytes: Buffer, offset: number): void {
  try {
    writeSync(fd, bytes, 0, bytes.length, offset);
  } catch {
    // A read-only descriptor or a full disk: waiters still get the lock, just less promptly.
  }
}
