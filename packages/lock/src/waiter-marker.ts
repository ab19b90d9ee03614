import { readSync, writeSync } from 'node:fs';
import { threadId } from 'node:worker_threads';
import { METADATA_RECORD_BYTES } from './holder-metadata.js';

/**
 * A note that someone is waiting, kept in the lock file right after the holder record. Waiters
 * in other processes poll, so a thread that releases and re-acquires at once would keep the
 * lock for as long as it has work; with this note it can see that others wait, and step aside.
 *
 * 64 bytes at offset 512: `{"w":<epoch ms>,"p":<pid>,"t":<thread id>}`, space padded, `\n`.
 */
export const WAITER_MARKER_OFFSET = METADATA_RECORD_BYTES;
const WAITER_MARKER_BYTES = 64;

/** How long a note counts as a live waiter; waiters refresh it at most this often, halved. */
export const WAITER_MARKER_FRESH_MS = 250;

/** Writes "this thread is waiting, as of now". Best effort: a failed write only costs fairness. */
export function announceWaiting(fd: number, now: number): void {
  const record = Buffer.alloc(WAITER_MARKER_BYTES, 0x20);
  record.write(JSON.stringify({ w: now, p: process.pid, t: threadId }), 0, 'utf8');
  record[WAITER_MARKER_BYTES - 1] = 0x0a;
  try {
    writeSync(fd, record, 0, WAITER_MARKER_BYTES, WAITER_MARKER_OFFSET);
  } catch {
    // A read-only descriptor or a full disk: the waiter still gets the lock, just less promptly.
  }
}

/** Whether another thread (of any process) announced within WAITER_MARKER_FRESH_MS that it waits. */
export function othersAreWaiting(fd: number, now: number): boolean {
  const buffer = Buffer.alloc(WAITER_MARKER_BYTES);
  let length: number;
  try {
    length = readSync(fd, buffer, 0, WAITER_MARKER_BYTES, WAITER_MARKER_OFFSET);
  } catch {
    return false;
  }
  const text = buffer.subarray(0, length).toString('utf8').trim();
  if (text === '') return false;
  try {
    const marker = JSON.parse(text) as { w?: unknown; p?: unknown; t?: unknown };
    if (typeof marker.w !== 'number') return false;
    if (marker.p === process.pid && marker.t === threadId) return false;
    return now - marker.w < WAITER_MARKER_FRESH_MS && marker.w <= now + WAITER_MARKER_FRESH_MS;
  } catch {
    return false;
  }
}
