import { LockTimeoutError, lockStatus, type FileLock, type LockHandle } from '@memhub/lock';
import { StoreAccessError, StoreCorruptError, StoreDiskFullError, StoreError, StoreIOError, StoreReplacedError } from '../../errors.js';
import { hitFaultPoint } from '../../fault-points.js';
import type { MemoryRecord } from '../../memory-record.js';
import type { JsonlMirror } from '../../mirror/jsonl-mirror.js';
import { newRecordId } from '../../record-id.js';
import type { WriteOperation, WriteResult } from '../../write-operation.js';
import { isSqliteBusy } from './sqlite-busy.js';
import type { WalCheckpointer } from './sqlite-checkpointer.js';
import type { SqliteStatements } from './sqlite-statements.js';
import type { GateOptions, SqliteWriteGate } from './sqlite-write-gate.js';
import type { AppliedBatches, BatchOutcome, SqliteWriter, WriterBatch } from './sqlite-writer.js';
import { HANDOVER_MAX_CHARS, handedResultOf, handoverChars, resultsOfHanded, type HandedBatch, type HandedResult } from './handed-batch.js';
import { LeaderClient, type HandoverEnd } from './leader-client.js';
import { LeaderServer } from './leader-server.js';
import type { LeaderReply } from './leader-wire.js';

/**
 * A write that timed out (a LockTimeoutError), and whether its batch was written: `false`, it
 * was not and never will be; `'unknown'`, a process that had it could not be reached and the lock
 * could not be had to find out (that process is frozen, inside its transaction or before reading
 * the batch): it is written if and when that process goes on.
 */
export type WriteTimeoutError = LockTimeoutError & { readonly written: false | 'unknown' };

/** A store object's part in committing across processes, as `stats().handover` reports it. */
export interface HandoverStats {
  /** It holds the leader lease now: it commits its own batches, and those other processes hand it once it listens. */
  readonly leading: boolean;
  /** Batches of other processes it committed (or failed, for an error of their own) while it led. */
  readonly committedForOthers: number;
  /** Batches it handed to the leader of the moment. */
  readonly handedOver: number;
  /**
   * Of those, the ones the leader did not answer: no answer within LEADER_PATIENCE_MS, twice (a
   * frozen leader, or its thread busy with other work), or its connection ended. Each was decided
   * under the write lock, by its outcome row or by committing it here.
   */
  readonly unanswered: number;
}

export interface SharedCommitOptions {
  readonly gate: SqliteWriteGate;
  readonly writer: SqliteWriter;
  readonly mirror: JsonlMirror;
  readonly checkpointer: WalCheckpointer;
  readonly statements: SqliteStatements;
  /** The leader lease, `memory.db.leader.lock`: held by the one process that commits for the others. */
  readonly leaderLease: FileLock;
  /** The leader's socket, `memory.db.leader.sock`; undefined when its path is too long for a Unix socket. */
  readonly socketPath: string | undefined;
  /** The store's write lock file, for the messages of timeouts. */
  readonly writeLockPath: string;
  readonly lockTimeoutMs: number;
  /** Runs a read with the engine's SQLITE_BUSY handling and typed errors. */
  readonly reading: <T>(action: string, read: () => T) => T | Promise<T>;
  /** The record with this id (a remember whose key was known is answered with it). */
  readonly get: (id: string) => Promise<MemoryRecord | undefined>;
  readonly logger: { warn(details: Record<string, unknown>, message: string): void };
  /** SQLite's `PRAGMA data_version`: it changes when another connection commits. */
  readonly dataVersion: () => number;
  /**
   * After each commit of this store object's batches (`leadingOthers`: a round this leader
   * committed for other processes too): where the search index is brought up to date from.
   */
  readonly committed: (leadingOthers: boolean) => void;
}

/** A round's transaction as committed, and SQLite's data_version as read inside it, if it looked. */
interface RoundCommitted extends AppliedBatches {
  readonly dataVersion: number | undefined;
}

/** A batch waiting for the leader's next round: its own, or one a follower handed over. */
interface Pending {
  readonly batch: WriterBatch;
  /** The leader's own batch: runs right after its COMMIT. */
  readonly afterCommit?: () => void;
  /**
   * Called once with what became of it. `handedBack`: this leader cannot commit it (its memory.db
   * is not the one at the path any more) and wrote nothing of it; its owner commits it.
   */
  readonly settle: (outcome: BatchOutcome | { readonly failed: unknown } | { readonly handedBack: true }) => void;
  /** Its transaction has begun: its follower can no longer take it back. */
  begun: boolean;
  /** Taken back by its follower before any transaction had it: never to be applied. */
  cancelled: boolean;
}

/**
 * A leader with nothing to commit for this long steps down: its lease and socket go. Long enough
 * that agents writing every few hundred milliseconds keep one leader (each change of leader costs
 * the followers a round of committing on their own until the new one opens its socket).
 */
const LEAD_WINDOW_MS = 1_000;
/**
 * How long a follower waits for the leader's answer before it asks for its batch back, and then
 * for the answer to that, before it decides under the write lock (the batch's outcome row keeps a
 * leader that only stalled from applying it again). A round takes milliseconds, and the slowest
 * calls of 8 writers on a 2-core machine with 2 busy loops beside them took 60-150 ms; a leader
 * that does not answer in this long is frozen, or its thread is blocked by other work of its
 * process (an agent's own synchronous code), and its followers should not wait for that: two of
 * these is what a follower waits for a leader that never answers. A leader that is only slow
 * answers the request when its thread runs next (taken back, or the batch's outcome): a wait cut
 * short costs a commit under the lock, never a record twice (`shared-commit.test.ts`).
 */
export const LEADER_PATIENCE_MS = 250;
/** After a leader failed to answer, a follower commits on its own this long before it tries a leader again. */
const LEADER_DISTRUST_MS = 1_000;
/**
 * The mirror is appended once this many lines are owed to it... (a few hundred lines: one write
 * and one lock of the layer file for them all, and not so many that an append holds the thread)
 */
const MIRROR_BATCH_LINES = 256;
/**
 * ...or this long after the first owed line. Short, so that a file trails its database by little
 * more, and the timer is not unref'd: a program that writes and ends without close() still gets
 * its lines (at most this much later than it would have ended).
 */
const MIRROR_AFTER_MS = 20;

/**
 * Cross-process group commit, through a leader. The first process (or worker thread) that writes
 * while nobody leads takes the leader lease and listens on the leader socket; every other process
 * that writes hands its prepared batch to the leader over that socket instead of waiting for the
 * write lock in turn. The leader commits its own batch and every batch handed to it in one
 * transaction (each in a savepoint of its own: one process's bad batch never fails another's),
 * appends their lines to the mirror, and answers each follower with its results. So under
 * contention one process writes for all, with its page cache warm, and no record waits for
 * another process to be woken and scheduled to take the lock (a lock convoy). A leader with
 * nothing to do for LEAD_WINDOW_MS steps down, and the next writer leads.
 *
 * The leader records each handed batch's outcome in `handed_batches`, in the transaction that
 * commits it; what a kill at each step leaves:
 * - a follower killed after sending (`handoff-after-send`): the leader commits the batch, and its
 *   answer goes nowhere;
 * - a leader killed after receiving (`leader-after-receive`), in its transaction (`before-commit`),
 *   or after its COMMIT (`after-commit`): the follower's connection ends without an answer; it
 *   takes the write lock and looks up its batch's outcome: there (committed, once) or not (it
 *   commits the batch itself, with the outcome row, so that a leader that was only frozen passes
 *   it over if it goes on: never twice);
 * - a follower that gets no answer within lockTimeoutMs asks the leader to take the batch back:
 *   taken back before any transaction had it, it was not written and never will be (the caller is
 *   told, `written: false`); no answer to that either, it takes the write lock and decides as
 *   above; when even the lock cannot be had, the leader is frozen with the batch, and the caller
 *   is told `written: 'unknown'`.
 * A leader that cannot listen (a socket path too long) still leads its own writes; the others
 * find nobody at the socket and wait for the write lock themselves, as before any of this.
 */
export class SharedCommit {
  readonly #options: SharedCommitOptions;
  #lease: LockHandle | undefined;
  /** The leader's socket, listening (or about to): opened when another process is seen writing. */
  #server: Promise<LeaderServer | undefined> | undefined;
  /** data_version after this leader's last commit: another value, another process committed since. */
  #dataVersion = -1;
  #client: LeaderClient | undefined;
  #queue: Pending[] = [];
  /** The batches of the round in progress (waiting for the lock, or being committed). */
  #inRound: readonly Pending[] = [];
  #rounds: Promise<void> | undefined;
  #roundScheduled = false;
  #stepDownTimer: NodeJS.Timeout | undefined;
  #lastActive = 0;
  /**
   * The leader answered this follower's last hand-over: its next write goes to the leader without
   * trying the lease first (a flock and a stat a write, for a lease somebody holds). Cleared by a
   * hand-over that ends without an answer: the leader stepped down or is gone, and the next write
   * may lead.
   */
  #leaderAnswers = false;
  /** Until when (epoch ms) this follower commits on its own: a leader did not answer. */
  #distrustUntil = 0;
  #closed = false;
  #mirrorTimer: NodeJS.Timeout | undefined;
  /**
   * A leader committed batches of this store object since its last flushMirror(): their lines are
   * that leader's to append, and flush() or close() here brings them in from the journal.
   */
  #handedSinceFlush = false;
  #committedForOthers = 0;
  #handedOver = 0;
  #unanswered = 0;
  /** The mirror append in progress (or the last one): appends run one after another. */
  #mirrorAppend: Promise<void> = Promise.resolve();

  constructor(options: SharedCommitOptions) {
    this.#options = options;
  }

  async write(operations: readonly WriteOperation[], afterCommit: () => void): Promise<WriteResult[]> {
    const own: WriterBatch = { operations, prepared: this.#options.writer.prepare(operations) };
    if (!this.#leaderAnswers && this.#lead()) return this.#commitAsLeader(own, afterCommit);
    return this.#handToLeader(own, afterCommit);
  }

  /** Stops leading (after the rounds in flight) and closes the connection to a leader. */
  async close(): Promise<void> {
    this.#closed = true;
    while (this.#rounds !== undefined) await this.#rounds;
    await this.flushMirror();
    await this.#stepDown();
    this.#options.leaderLease.close();
    this.#client?.close();
  }

  stats(): HandoverStats {
    return { leading: this.#lease !== undefined, committedForOthers: this.#committedForOthers, handedOver: this.#handedOver, unanswered: this.#unanswered };
  }

  /**
   * Whether this store object leads: it holds the lease, or takes it now that nobody does. Not
   * once its memory.db was found replaced: it could commit for nobody, its own writes fail, and
   * the lease belongs to a process that opened the database now at the path.
   */
  #lead(): boolean {
    if (this.#lease !== undefined) return true;
    if (this.#closed || this.#options.gate.foundReplaced) return false;
    const lease = this.#options.leaderLease.tryAcquire({ purpose: 'memhub write leader' });
    if (lease === null) return false;
    this.#lease = lease;
    this.#lastActive = Date.now();
    this.#dataVersion = this.#options.dataVersion();
    this.#scheduleStepDown();
    return true;
  }

  /**
   * Whether this leader still looks out for other writers: it leads, can listen, and does not yet.
   * While it does, each of its transactions reads data_version (see #listenIfOthersWrite).
   */
  #watchingForOthers(): boolean {
    return this.#server === undefined && this.#options.socketPath !== undefined && this.#lease !== undefined && !this.#closed;
  }

  /**
   * Opens the leader's socket once another process is seen writing (its commits move SQLite's
   * data_version): a process that writes alone, like a command-line call, never opens one.
   * `version` is data_version as read inside the transaction just committed, where it needs no
   * read transaction of its own (read after the COMMIT, it began one: SQLite's read lock taken and
   * dropped, two `fcntl` calls a commit more); undefined when that transaction did not look. Inside
   * the transaction it tells the same: it moves only when another connection commits, and it was
   * brought up to date when this transaction began, with the write lock held since.
   */
  #listenIfOthersWrite(version: number | undefined): void {
    if (version === undefined) return;
    const othersWrote = version !== this.#dataVersion;
    this.#dataVersion = version;
    const path = this.#options.socketPath;
    if (!othersWrote || !this.#watchingForOthers() || path === undefined) return;
    this.#server = LeaderServer.listen(path, {
      onBatch: (batch, reply) => this.#received(batch, reply),
      onCancel: (id) => this.#cancel(id),
    }).catch((error: unknown) => {
      this.#options.logger.warn({ socket: path, error: String(error) }, 'memhub: the write leader cannot listen; other processes will wait for the write lock instead');
      return undefined;
    });
  }

  #scheduleStepDown(): void {
    if (this.#stepDownTimer !== undefined) return;
    const check = () => {
      this.#stepDownTimer = undefined;
      if (this.#lease === undefined) return;
      const idle = Date.now() - this.#lastActive;
      if (idle >= LEAD_WINDOW_MS && this.#queue.length === 0 && this.#rounds === undefined) {
        void this.#stepDown();
        return;
      }
      this.#stepDownTimer = setTimeout(check, Math.max(1, LEAD_WINDOW_MS - idle));
      this.#stepDownTimer.unref();
    };
    this.#stepDownTimer = setTimeout(check, LEAD_WINDOW_MS);
    this.#stepDownTimer.unref();
  }

  /** The socket closes (followers still waiting on it find out under the lock), then the lease goes. */
  async #stepDown(): Promise<void> {
    if (this.#stepDownTimer !== undefined) clearTimeout(this.#stepDownTimer);
    this.#stepDownTimer = undefined;
    const server = this.#server;
    this.#server = undefined;
    const lease = this.#lease;
    this.#lease = undefined;
    try {
      await (await server)?.close();
    } finally {
      lease?.release();
    }
  }

  #commitAsLeader(own: WriterBatch, afterCommit: () => void): Promise<WriteResult[]> {
    return new Promise((resolve, reject) => {
      this.#enqueue({
        batch: own,
        afterCommit,
        begun: false,
        cancelled: false,
        settle: (outcome) => {
          if ('results' in outcome) resolve(outcome.results);
          else if ('failed' in outcome) reject(outcome.failed instanceof LockTimeoutError ? this.#withWritten(outcome.failed, false) : outcome.failed);
          else reject('error' in outcome ? outcome.error : new StoreIOError('the batch of this store was found decided by another'));
        },
      });
    });
  }

  /** A follower's batch arrived at this leader. */
  #received(batch: HandedBatch, reply: (message: LeaderReply) => void): void {
    // Closing: the batch is left alone, and its follower, whose connection ends now, commits it itself.
    if (this.#closed) return;
    hitFaultPoint('leader-after-receive');
    this.#enqueue({
      batch: { operations: batch.operations, prepared: batch.prepared, handoffId: batch.id },
      begun: false,
      cancelled: false,
      settle: (outcome) => {
        if ('handedBack' in outcome) reply({ id: batch.id, withdrawn: true });
        else if ('results' in outcome) {
          const results: HandedResult[] = outcome.results.map((result, index) =>
            handedResultOf(batch.operations[index] as WriteOperation, result, batch.prepared[index]),
          );
          reply({ id: batch.id, results });
        } else if ('error' in outcome || 'failed' in outcome) {
          const error = 'error' in outcome ? outcome.error : outcome.failed;
          reply({ id: batch.id, error: describeError(error) });
        }
        // Decided by its owner meanwhile: it knows, and is not waiting for this answer.
      },
    });
  }

  /**
   * A follower gave up waiting for its batch: taken back if no transaction has begun with it (it
   * may be in a round that waits for the lock: that round passes it over).
   */
  #cancel(id: string): boolean {
    const pending = [...this.#queue, ...this.#inRound].find((candidate) => candidate.batch.handoffId === id);
    if (pending === undefined || pending.begun || pending.cancelled) return false;
    pending.cancelled = true;
    const queued = this.#queue.indexOf(pending);
    if (queued >= 0) this.#queue.splice(queued, 1);
    return true;
  }

  #enqueue(pending: Pending): void {
    this.#queue.push(pending);
    this.#lastActive = Date.now();
    if (this.#rounds !== undefined || this.#roundScheduled) return;
    // The leader's own batch starts a round at once (its group commit has gathered its calls
    // already); batches that arrive from followers gather for the rest of this turn first.
    if (pending.afterCommit !== undefined) this.#startRounds();
    else {
      this.#roundScheduled = true;
      setImmediate(() => {
        this.#roundScheduled = false;
        this.#startRounds();
      });
    }
  }

  /**
   * Starts the rounds, unless they run already or nothing waits: the batch a round was scheduled
   * for may have been taken back meanwhile (its cancel can arrive in the same read). With an
   * empty queue, #runRounds would return before its first await, its `finally` would clear
   * #rounds before the caller stored the promise, and #rounds would stay set with no round
   * running: every later batch, this process's own included, would wait for it forever.
   */
  #startRounds(): void {
    if (this.#rounds !== undefined || this.#queue.length === 0) return;
    this.#rounds = this.#runRounds();
  }

  /** Rounds until the queue is empty, one transaction each (started by #startRounds only: the queue is not empty). */
  async #runRounds(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const round = this.#queue;
        this.#queue = [];
        this.#inRound = round;
        await this.#round(round);
        this.#inRound = [];
        this.#lastActive = Date.now();
      }
    } finally {
      this.#inRound = [];
      // No await between the empty-queue check above and this line (see GroupCommit).
      this.#rounds = undefined;
    }
  }

  async #round(round: readonly Pending[]): Promise<void> {
    const { gate } = this.#options;
    let applied: RoundCommitted;
    /** The batches the transaction took: those not taken back while the round waited for the lock. */
    let taken: readonly Pending[] = [];
    try {
      const work = (held: LockHandle) => {
        taken = round.filter((pending) => !pending.cancelled);
        for (const pending of taken) pending.begun = true;
        return this.#commitHeld(held, taken);
      };
      let done: { readonly value: RoundCommitted } | undefined;
      try {
        done = gate.tryRun('memhub write transaction', 'write', work, WRITE_GATE_OPTIONS);
      } catch (error) {
        // Another program holds SQLite's own write lock: wait for it below, asynchronously.
        if (!isSqliteBusy(error)) throw error;
      }
      applied = done?.value ?? (await gate.run('memhub write transaction', 'write', work, WRITE_GATE_OPTIONS));
    } catch (error) {
      if (error instanceof StoreReplacedError) {
        this.#handBack(round, error);
        return;
      }
      // Nothing of the round was committed, and its handed batches exist nowhere else: not written.
      for (const pending of round) if (!pending.cancelled || pending.begun) pending.settle({ failed: error });
      return;
    }
    if (taken.some((pending) => pending.batch.handoffId !== undefined)) hitFaultPoint('leader-after-commit');
    this.#listenIfOthersWrite(applied.dataVersion);
    hitFaultPoint('after-commit');
    taken.forEach((pending, index) => {
      const outcome = applied.outcomes[index] as BatchOutcome;
      // A batch found decided by its owner meanwhile was passed over, not committed here.
      if (pending.batch.handoffId !== undefined && !('decided' in outcome)) this.#committedForOthers += 1;
      pending.settle(outcome);
    });
    this.#mirrorSoon(applied);
    this.#options.committed(taken.some((pending) => pending.batch.handoffId !== undefined));
  }

  /**
   * This leader's memory.db is not the one at the path any more (a backup restored in its place,
   * the folder made again), and its round rolled back: its own batches fail with that error, the
   * batches of its followers, who opened the database now there, go back to them to commit in it
   * (their owners commit them without an outcome row: this store object never writes again), and
   * it steps down, its socket closed and its lease free for one of them. Left leading, it would
   * fail every batch handed to it for as long as anyone wrote.
   */
  #handBack(round: readonly Pending[], replaced: StoreReplacedError): void {
    // The round's batches (but those taken back before it began: answered already), and any queued behind it.
    const undecided = [...round.filter((pending) => !pending.cancelled || pending.begun), ...this.#queue.splice(0)];
    for (const pending of undecided) pending.settle(pending.batch.handoffId === undefined ? { failed: replaced } : { handedBack: true });
    void this.#stepDown();
  }

  /** Under the flock, synchronously: one transaction for the batches; the own batch's afterCommit right after its COMMIT. */
  #commitHeld(held: LockHandle, round: readonly Pending[]): RoundCommitted {
    const { writer, gate, mirror, checkpointer, dataVersion } = this.#options;
    const prune = mirror.prunable();
    const handed = round.some((pending) => pending.batch.handoffId !== undefined);
    const watching = this.#watchingForOthers();
    let versionSeen: number | undefined;
    const applied = writer.applyBatches(
      round.map((pending) => pending.batch),
      prune,
      () => {
        hitFaultPoint(handed ? 'leader-before-commit' : 'before-commit');
        gate.beforeCommit(held);
        if (watching) versionSeen = dataVersion();
      },
    );
    // Synchronously after the COMMIT, before anything else can run in this thread: a recall
    // resolving in between would count the increments just written twice.
    round.forEach((pending, index) => {
      if ('results' in (applied.outcomes[index] as BatchOutcome)) pending.afterCommit?.();
    });
    mirror.pruned(prune);
    checkpointer.checkpointIfLarge();
    return { ...applied, dataVersion: versionSeen };
  }

  /**
   * After a commit, its callers answered: the touched layers' lines are owed to their files, and
   * appended in a batch once MIRROR_BATCH_LINES are owed or MIRROR_AFTER_MS after the first (and
   * on flush() and close()). One append for many commits: one at a time, appending after every
   * commit cost about as much CPU as the commit itself.
   */
  #mirrorSoon(applied: AppliedBatches): void {
    if (applied.touchedLayers.size === 0) return;
    const owed = this.#options.mirror.owe(applied.touchedLayers, { startSeq: applied.startSeq, changes: applied.changes });
    if (owed >= MIRROR_BATCH_LINES) void this.appendMirror();
    else this.#mirrorTimer ??= setTimeout(() => void this.appendMirror(), MIRROR_AFTER_MS);
  }

  /**
   * flush() and close(): the lines this store object owes, then, if a leader committed batches of
   * its own since the last time, every layer caught up from the journal (that leader appends their
   * lines in its next batch; the caller of flush() expects them in the files now). Never rejects.
   */
  async flushMirror(): Promise<void> {
    await this.appendMirror();
    if (!this.#handedSinceFlush) return;
    this.#handedSinceFlush = false;
    await this.#options.mirror.catchUpJournal('memhub mirror catch-up on flush');
  }

  /** Appends every line owed to the mirror; one append at a time. Never rejects (see JsonlMirror.appendOwed). */
  appendMirror(): Promise<void> {
    if (this.#mirrorTimer !== undefined) clearTimeout(this.#mirrorTimer);
    this.#mirrorTimer = undefined;
    // appendOwed reports its failures to the logger and never rejects; the catch keeps the chain
    // (and the timer's `void`) from ever carrying a rejection, whatever a later change makes it do.
    this.#mirrorAppend = this.#mirrorAppend.then(() => this.#options.mirror.appendOwed()).catch((error: unknown) => {
      this.#options.logger.warn({ error: String(error) }, 'memhub: appending to the layer mirrors failed; they are caught up later');
    });
    return this.#mirrorAppend;
  }

  async #handToLeader(own: WriterBatch, afterCommit: () => void): Promise<WriteResult[]> {
    const { lockTimeoutMs, socketPath, gate } = this.#options;
    const batch: HandedBatch = { id: newRecordId(), pid: process.pid, operations: own.operations, prepared: own.prepared };
    // The leader writes to the database at the path: this store must still be that database.
    gate.assertSameDatabase();
    // No socket to hand it to, a leader that did not answer a moment ago, or a batch too large to
    // send (HANDOVER_MAX_CHARS): this process commits it itself.
    if (socketPath === undefined || Date.now() < this.#distrustUntil || handoverChars(own.operations) > HANDOVER_MAX_CHARS) {
      return this.#commitUnderLock(batch, afterCommit, false);
    }
    this.#client ??= new LeaderClient(socketPath);
    const started = performance.now();
    const reply = await this.#client.hand(batch, Math.min(LEADER_PATIENCE_MS, lockTimeoutMs), () => hitFaultPoint('handoff-after-send'));
    this.#leaderAnswers = !('kind' in reply);
    // Nobody listens: no leader saw the batch. It is this process's to commit.
    if ('kind' in reply && reply.kind === 'unreachable') return this.#commitUnderLock(batch, afterCommit, false);
    this.#handedOver += 1;
    let answer: LeaderReply | HandoverEnd = reply;
    // No answer in time: ask for the batch back. A leader that is only slow (its round waits for
    // the lock) answers at once: taken back, or the outcome if its transaction had begun.
    if ('kind' in answer && answer.kind === 'timeout') answer = await this.#client.cancel(batch.id, Math.min(LEADER_PATIENCE_MS, lockTimeoutMs));
    if ('kind' in answer) {
      // No answer at all (the leader is stalled), or the connection ended without one (it died or
      // stepped down): decided under the lock, by its outcome row or by committing it here.
      this.#unanswered += 1;
      if (answer.kind === 'timeout') {
        this.#distrustUntil = Date.now() + LEADER_DISTRUST_MS;
        this.#client.close();
        this.#client = undefined;
      }
      return this.#commitUnderLock(batch, afterCommit, true);
    }
    // Taken back before any transaction had it: never written by the leader; this process commits it.
    if ('withdrawn' in answer) return this.#commitUnderLock(batch, afterCommit, false);
    // A leader that cannot read this process's batches (another version of memhub, a batch format
    // it does not know) or cannot write to this store at all: it applied nothing of the batch, and
    // this process commits it, and its next ones for LEADER_DISTRUST_MS, itself. Else every write
    // of this process would fail for as long as that leader led.
    if ('error' in answer && answer.error.code === 'ERR_MEMHUB_COMPATIBILITY') {
      this.#distrustUntil = Date.now() + LEADER_DISTRUST_MS;
      return this.#commitUnderLock(batch, afterCommit, false);
    }
    return this.#resultsOf(batch, answer, afterCommit, performance.now() - started);
  }

  /**
   * Without a leader's answer: under the write lock, the batch's outcome if a leader recorded one,
   * else the batch committed here, with its outcome row when a leader may still hold it (`handed`:
   * a leader that goes on later finds the row and passes it over).
   */
  async #commitUnderLock(batch: HandedBatch, afterCommit: () => void, handed: boolean): Promise<WriteResult[]> {
    const { gate, statements, writer, mirror, checkpointer } = this.#options;
    const started = performance.now();
    let decided: { readonly results: string | null; readonly error: string | null } | undefined;
    let applied: AppliedBatches;
    try {
      applied = await gate.run(
        'memhub write transaction',
        'write',
        (held) => {
          decided = handed ? statements.handedOutcome.get({ batch_id: batch.id }) : undefined;
          const prune = decided === undefined ? mirror.prunable() : new Map<string, number>();
          const written = writer.applyBatches(decided === undefined ? [{ operations: batch.operations, prepared: batch.prepared, ...(handed ? { handoffId: batch.id } : {}) }] : [], prune, () => {
            hitFaultPoint('before-commit');
            gate.beforeCommit(held);
          });
          if (decided === undefined && 'results' in (written.outcomes[0] as BatchOutcome)) afterCommit();
          mirror.pruned(prune);
          checkpointer.checkpointIfLarge();
          return written;
        },
        WRITE_GATE_OPTIONS,
      );
    } catch (error) {
      if (handed && error instanceof LockTimeoutError) throw this.#withWritten(error, 'unknown');
      if (error instanceof LockTimeoutError) throw this.#withWritten(error, false);
      throw error;
    }
    if (decided !== undefined) return this.#resultsOfRow(batch, decided, afterCommit);
    hitFaultPoint('after-commit');
    this.#mirrorSoon(applied);
    this.#options.committed(false);
    const outcome = applied.outcomes[0] as BatchOutcome;
    if ('error' in outcome) throw outcome.error;
    if (!('results' in outcome)) throw new StoreIOError(`batch ${batch.id} was found decided twice (${Math.round(performance.now() - started)} ms)`);
    return outcome.results;
  }

  async #resultsOf(batch: HandedBatch, reply: LeaderReply, afterCommit: () => void, waitedMs: number): Promise<WriteResult[]> {
    if ('error' in reply && reply.error.code === 'ERR_LOCK_TIMEOUT') {
      throw this.#timeout(waitedMs, false, `the write leader timed out waiting for the lock with this batch, and dropped it (${reply.error.message})`);
    }
    if ('error' in reply) throw failureOfLeader(reply.error.code, reply.error.message);
    if (!('results' in reply)) throw new StoreIOError(`an unexpected answer from the write leader for batch ${batch.id}`);
    this.#handedSinceFlush = true;
    const results = await resultsOfHanded(batch.operations, batch.prepared, reply.results, this.#options.get);
    afterCommit();
    this.#options.committed(false);
    return results;
  }

  async #resultsOfRow(batch: HandedBatch, row: { readonly results: string | null; readonly error: string | null }, afterCommit: () => void): Promise<WriteResult[]> {
    if (row.error !== null) {
      const failure = JSON.parse(row.error) as { code?: string; message?: string };
      throw failureOfLeader(failure.code, failure.message ?? '');
    }
    if (row.results === null) throw new StoreIOError(`batch ${batch.id} was withdrawn before it was written`);
    this.#handedSinceFlush = true;
    const results = await resultsOfHanded(batch.operations, batch.prepared, JSON.parse(row.results) as HandedResult[], this.#options.get);
    afterCommit();
    return results;
  }

  /** A LockTimeoutError for a batch the leader did not commit in time, naming who holds the write lock. */
  #timeout(waitedMs: number, written: false | 'unknown', what: string): WriteTimeoutError {
    const holders = lockStatus(this.#options.writeLockPath).holders;
    const who = holders.length === 0 ? 'nobody holds it now' : holders.map((holder) => `pid ${holder.pid ?? '?'}${holder.purpose === undefined ? '' : ` (${holder.purpose})`}`).join(', ');
    return this.#withWritten(new LockTimeoutError(this.#options.writeLockPath, 'exclusive', waitedMs, holders, `${what}; ${who}`), written);
  }

  #withWritten(error: LockTimeoutError, written: false | 'unknown'): WriteTimeoutError {
    error.message +=
      written === false
        ? ' (nothing of this write was written, and it never will be)'
        : ' (the write leader that had this batch could not be reached: it is written if and when that process goes on)';
    return Object.assign(error, { written });
  }
}

/**
 * Every write transaction here checks memory.db's identity in beforeCommit(), and has the
 * `before-begin` fault point where crash tests stop a holder: the flock held, nothing begun yet.
 */
const WRITE_GATE_OPTIONS: GateOptions = { beforeConfirm: () => hitFaultPoint('before-begin'), checksBeforeCommit: true };

/**
 * The classes of the failures a leader's answer can carry whose only data is their code and
 * message: a follower throws the same class as a process committing on its own would (a full
 * disk is a StoreDiskFullError in every process), not a bare StoreError with the code.
 */
const FAILURE_CLASSES = new Map<string, new (...args: never[]) => StoreError>([
  ['ERR_MEMHUB_DISK_FULL', StoreDiskFullError],
  ['ERR_MEMHUB_ACCESS', StoreAccessError],
  ['ERR_MEMHUB_CORRUPT', StoreCorruptError],
  ['ERR_MEMHUB_IO', StoreIOError],
]);

/** A batch's failure as its leader answered it, as the error this process throws. */
function failureOfLeader(code: string | undefined, message: string): StoreError {
  const resolvedCode = code ?? 'ERR_MEMHUB_IO';
  const text = `The write leader failed this batch (nothing of it was written): ${message}`;
  const failureClass = FAILURE_CLASSES.get(resolvedCode);
  // StoreError's constructor with the subclass as new.target: the subclass's prototype and name,
  // this code and message (the subclasses' own constructors build their messages from parts the
  // answer does not carry).
  return failureClass === undefined ? new StoreError(resolvedCode, text) : (Reflect.construct(StoreError, [resolvedCode, text], failureClass) as StoreError);
}

function describeError(error: unknown): { readonly code?: string; readonly message: string } {
  const code = (error as { code?: unknown } | null)?.code;
  return { ...(typeof code === 'string' ? { code } : {}), message: error instanceof Error ? error.message : String(error) };
}
