import type { Socket } from 'node:net';
import type { HandedResult } from './handed-batch.js';

/**
 * The messages between a process that hands its batches over (a follower) and the leader that
 * commits them, over a Unix socket: one JSON object a line (JSON.stringify escapes every newline
 * inside strings, so a line is always one message).
 *
 * - follower -> leader: `{ "batch": <handed batch> }`, and `{ "cancel": "<id>" }` when it gave up
 *   waiting (the leader takes the batch back if no transaction has it yet);
 * - leader -> follower, one per batch: `{ "id", "results": [...] }` (committed),
 *   `{ "id", "error": {code, message} }` (failed: nothing of it was written), or
 *   `{ "id", "withdrawn": true }` (cancelled before any transaction had it: never written).
 */
export type LeaderReply =
  | { readonly id: string; readonly results: readonly HandedResult[] }
  | { readonly id: string; readonly error: { readonly code?: string | undefined; readonly message: string } }
  | { readonly id: string; readonly withdrawn: true };

export type FollowerMessage = { readonly batch: unknown } | { readonly cancel: string };

/** Writes one message as a line. */
export function sendMessage(socket: Socket, message: FollowerMessage | LeaderReply): void {
  socket.write(`${JSON.stringify(message)}\n`);
}

/**
 * Splits a socket's bytes into messages, one a line, whatever the chunks: calls `onMessage` with
 * each parsed line, and `onGarbage` with a line that is not JSON (the connection is then useless:
 * the caller closes it).
 */
export function readMessages(socket: Socket, onMessage: (message: unknown) => void, onGarbage: (error: Error) => void): void {
  let carry: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => {
    let start = 0;
    for (let newline = chunk.indexOf(0x0a); newline >= 0; newline = chunk.indexOf(0x0a, start)) {
      const piece = chunk.subarray(start, newline);
      const line = carry.length === 0 ? piece : Buffer.concat([...carry, piece]);
      carry = [];
      start = newline + 1;
      let message: unknown;
      try {
        message = JSON.parse(line.toString('utf8'));
      } catch (error) {
        onGarbage(error as Error);
        return;
      }
      onMessage(message);
    }
    if (start < chunk.length) carry.push(chunk.subarray(start));
  });
}
