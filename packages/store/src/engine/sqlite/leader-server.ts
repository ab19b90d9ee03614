import { unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { decodeHandedBatch, type HandedBatch } from './handed-batch.js';
import { readMessages, sendMessage, type LeaderReply } from './leader-wire.js';

/** What the leader does with what followers send: a batch to commit, or a request to take one back. */
export interface LeaderHandlers {
  /** A batch arrived; `reply` answers its follower (once the batch is decided). */
  readonly onBatch: (batch: HandedBatch, reply: (message: LeaderReply) => void) => void;
  /** Its follower gave up waiting: true when the batch was taken back before any transaction had it. */
  readonly onCancel: (id: string) => boolean;
}

/**
 * The leader's side of the hand-over: a Unix socket in the store's folder that followers connect
 * to. Only the holder of the leader lease listens, so a socket file left by a leader that died is
 * removed and bound again without a race.
 */
export class LeaderServer {
  readonly #server: Server;
  readonly #connections = new Set<Socket>();

  private constructor(server: Server) {
    this.#server = server;
    server.on('connection', (socket) => {
      this.#connections.add(socket);
      socket.on('close', () => this.#connections.delete(socket));
    });
  }

  /** Listens at `path` (the caller holds the leader lease). Rejects when the socket cannot be bound. */
  static listen(path: string, handlers: LeaderHandlers): Promise<LeaderServer> {
    try {
      unlinkSync(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return Promise.reject(error);
    }
    const server = createServer((socket) => serve(socket, handlers));
    // The leader's process may exit while it leads: its socket never keeps it alive.
    server.unref();
    const leader = new LeaderServer(server);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve(leader);
      });
    });
  }

  /**
   * Stops taking connections and ends the open ones (their followers find out what happened from
   * the database); resolves once the socket is closed.
   */
  close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const socket of this.#connections) socket.destroy();
    return closed;
  }
}

function serve(socket: Socket, handlers: LeaderHandlers): void {
  socket.unref();
  socket.on('error', () => socket.destroy());
  const reply = (message: LeaderReply) => {
    if (!socket.destroyed && socket.writable) sendMessage(socket, message);
  };
  readMessages(
    socket,
    (message) => {
      const value = message as { batch?: unknown; cancel?: unknown };
      if (typeof value.cancel === 'string') {
        if (handlers.onCancel(value.cancel)) reply({ id: value.cancel, withdrawn: true });
        return;
      }
      const batch = decodeHandedBatch(value.batch);
      if (batch instanceof Error) {
        // Not a batch of this version: answered, never applied.
        const id = (value.batch as { id?: unknown } | undefined)?.id;
        if (typeof id === 'string') reply({ id, error: { code: 'ERR_MEMHUB_COMPATIBILITY', message: `the leader could not read this batch: ${batch.message}` } });
        return;
      }
      handlers.onBatch(batch, reply);
    },
    () => socket.destroy(),
  );
}
