import { connect, type Socket } from 'node:net';
import { encodeHandedBatch, type HandedBatch } from './handed-batch.js';
import { readMessages, sendMessage, type LeaderReply } from './leader-wire.js';

/** How a hand-over ended, when it did not end with the leader's reply. */
export type HandoverEnd =
  /** No leader could be reached (none listens: it stepped down, died, or has no socket): nothing was sent. */
  | { readonly kind: 'unreachable' }
  /** The connection ended after the batch was sent, with no reply: the leader may or may not have committed it. */
  | { readonly kind: 'lost' }
  /** No reply within the time given: the leader may still commit it. */
  | { readonly kind: 'timeout' };

interface Waiting {
  readonly resolve: (reply: LeaderReply | HandoverEnd) => void;
  timer: NodeJS.Timeout | undefined;
}

/**
 * A follower's connection to the leader's socket, opened at the first hand-over and kept for the
 * next ones. Never throws for the leader's sake: each hand-over resolves with the reply or says
 * how it ended without one (see HandoverEnd), and the caller finds out the rest under the lock.
 */
export class LeaderClient {
  readonly #path: string;
  #socket: Promise<Socket | undefined> | undefined;
  readonly #waiting = new Map<string, Waiting>();

  constructor(path: string) {
    this.#path = path;
  }

  /** Sends the batch; resolves with the leader's reply, or with how the hand-over ended without one. */
  async hand(batch: HandedBatch, timeoutMs: number, afterSend?: () => void): Promise<LeaderReply | HandoverEnd> {
    const socket = await this.#connected();
    if (socket === undefined) return { kind: 'unreachable' };
    const reply = this.#await(batch.id, timeoutMs);
    sendMessage(socket, { batch: encodeHandedBatch(batch) });
    afterSend?.();
    return reply;
  }

  /** Asks the leader to take the batch back; resolves with its reply (withdrawn, or the outcome), or how the wait ended. */
  async cancel(id: string, timeoutMs: number): Promise<LeaderReply | HandoverEnd> {
    const socket = await this.#connected();
    if (socket === undefined) return { kind: 'lost' };
    const reply = this.#await(id, timeoutMs);
    sendMessage(socket, { cancel: id });
    return reply;
  }

  close(): void {
    void this.#socket?.then((socket) => socket?.destroy());
    this.#socket = undefined;
    this.#endAll({ kind: 'lost' });
  }

  #await(id: string, timeoutMs: number): Promise<LeaderReply | HandoverEnd> {
    return new Promise((resolve) => {
      const waiting: Waiting = { resolve, timer: undefined };
      waiting.timer = setTimeout(() => {
        this.#waiting.delete(id);
        resolve({ kind: 'timeout' });
      }, timeoutMs);
      this.#waiting.set(id, waiting);
    });
  }

  /** The open connection, opening one if needed; undefined when no leader listens. */
  #connected(): Promise<Socket | undefined> {
    this.#socket ??= new Promise((resolve) => {
      const socket = connect(this.#path);
      socket.unref();
      socket.once('connect', () => resolve(socket));
      socket.once('error', () => {
        socket.destroy();
        resolve(undefined);
      });
      socket.once('close', () => {
        this.#socket = undefined;
        this.#endAll({ kind: 'lost' });
      });
      readMessages(
        socket,
        (message) => {
          const reply = message as LeaderReply;
          const waiting = this.#waiting.get(reply.id);
          if (waiting === undefined) return;
          this.#waiting.delete(reply.id);
          clearTimeout(waiting.timer);
          waiting.resolve(reply);
        },
        () => socket.destroy(),
      );
    });
    return this.#socket;
  }

  #endAll(end: HandoverEnd): void {
    for (const [id, waiting] of this.#waiting) {
      clearTimeout(waiting.timer);
      this.#waiting.delete(id);
      waiting.resolve(end);
    }
  }
}
