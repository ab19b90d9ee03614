import { spawn, type ChildProcess } from 'node:child_process';
import { extname } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { InputSource } from '../input-files.js';
import type { StoreTarget } from '../store-target.js';
import { decodeWorkerMessage, encodeMessage, type NumberedLine, type RejectMessage, type WorkerMessage } from './ingest-protocol.js';

/** What runIngest needs: where from, where to, how many workers. */
export interface IngestPlan {
  readonly source: InputSource;
  readonly target: StoreTarget;
  readonly workers: number;
  /** Lines per batch (one rememberMany, one transaction). */
  readonly batchSize: number;
  /** The first line to ingest (1-based): the lines before it are read past, to resume an interrupted ingest. */
  readonly fromLine?: number;
  /** Aborted: no more lines are handed out, and the batches in flight are finished. */
  readonly signal?: AbortSignal;
  /** Every bad line, in line order (whichever worker finds it first). */
  readonly onReject: (reject: RejectMessage) => void;
  readonly onProgress: (progress: IngestProgress) => void;
  /** A worker's stderr (store warnings, a crash's trace), line by line. */
  readonly onWorkerLog: (worker: number, line: string) => void;
}

/** Running totals, after each batch a worker finished. */
export interface IngestProgress {
  /** Lines handed to workers and finished by them. */
  readonly linesDone: number;
  /** Input bytes of those lines (for a progress bar over the input's size). */
  readonly bytesDone: number;
  /** Good lines now in the store: written, or already there under their key. */
  readonly stored: number;
  readonly rejected: number;
  readonly blank: number;
}

/** How the run went, for the summary. */
export interface IngestOutcome extends IngestProgress {
  /** Lines read from the input (finished or not), from `fromLine` on. */
  readonly linesRead: number;
  /** Why workers failed, one message each; empty when every worker finished. */
  readonly failures: readonly string[];
  /** The signal stopped the run before the end of the input. */
  readonly interrupted: boolean;
  /**
   * Interrupted with every batch handed out finished: the line to go on from (every line before it
   * is done, none after it was handed out). Null otherwise.
   */
  readonly resumeFromLine: number | null;
}

/** Batches a worker may have at once: one being written, one waiting, so it never idles. */
const BATCHES_IN_FLIGHT_PER_WORKER = 2;
/** A batch is handed out at this many input bytes even before it has `batchSize` lines, so long lines keep memory bounded. */
const MAX_BATCH_BYTES = 8 * 1024 * 1024;

interface WorkerState {
  readonly index: number;
  readonly child: ChildProcess;
  /** Lines and bytes of each batch sent and not yet done, by batch number. */
  readonly inFlight: Map<number, { lines: number; bytes: number }>;
  readonly exited: Promise<void>;
  failed: boolean;
}

/**
 * Holds each batch's rejected lines until every batch before it is finished, then hands them on
 * sorted: the workers finish batches in any order, the reader of the report expects line order.
 * At most the batches in flight are held (two per worker).
 */
class RejectsInLineOrder {
  readonly #onReject: (reject: RejectMessage) => void;
  readonly #held = new Map<number, RejectMessage[]>();
  readonly #finished = new Set<number>();
  #next = 1;

  constructor(onReject: (reject: RejectMessage) => void) {
    this.#onReject = onReject;
  }

  add(batch: number, reject: RejectMessage): void {
    const held = this.#held.get(batch);
    if (held === undefined) this.#held.set(batch, [reject]);
    else held.push(reject);
  }

  finished(batch: number): void {
    this.#finished.add(batch);
    while (this.#finished.delete(this.#next)) {
      this.#release(this.#next);
      this.#next += 1;
    }
  }

  /** At the end: what a failed worker's unfinished batches kept back, and everything after them. */
  flush(): void {
    for (const batch of [...this.#held.keys()].sort((left, right) => left - right)) this.#release(batch);
  }

  #release(batch: number): void {
    const held = this.#held.get(batch);
    this.#held.delete(batch);
    for (const reject of (held ?? []).sort((left, right) => left.line - right.line)) this.#onReject(reject);
  }
}

/**
 * Ingests a JSONL input with several worker processes, each writing through the store.
 *
 * How the input is shared: the parent reads it once, as a stream (never whole in memory), cuts
 * it into numbered batches of lines, and writes each batch as one line to the stdin of the
 * worker with the fewest batches in flight. A worker takes at most two batches at a time, so the
 * parent stops reading while every worker is busy (backpressure from the slowest part, the
 * store's write lock), a slow worker gets fewer batches than a fast one, and stdin works as
 * well as a file (a byte-range split would need a seekable file and a pass to find line
 * boundaries). Each worker reports each finished batch, and each bad line with its input line
 * number, on its stdout.
 *
 * If a worker fails, no more batches are handed out; the others finish theirs. What was written
 * stays written, and re-running the ingest is safe for lines that carry a `key`.
 */
export async function runIngest(plan: IngestPlan): Promise<IngestOutcome> {
  const failures: string[] = [];
  let wake: (() => void) | undefined;
  const wakeDispatcher = () => {
    const resolve = wake;
    wake = undefined;
    resolve?.();
  };
  const totals = { linesDone: 0, bytesDone: 0, stored: 0, rejected: 0, blank: 0 };
  const rejects = new RejectsInLineOrder(plan.onReject);
  plan.signal?.addEventListener('abort', wakeDispatcher, { once: true });

  const workers: WorkerState[] = Array.from({ length: plan.workers }, (_, index) => {
    const child = spawn(process.execPath, [...process.execArgv, workerEntry(), JSON.stringify(plan.target)], { stdio: ['pipe', 'pipe', 'pipe'] });
    const state: WorkerState = { index, child, inFlight: new Map(), failed: false, exited: Promise.resolve() };
    const fail = (why: string) => {
      if (!state.failed) failures.push(`worker ${index + 1} (pid ${child.pid}): ${why}`);
      state.failed = true;
      wakeDispatcher();
    };
    // A worker that dies leaves a closed pipe: writing to it must not crash the parent.
    child.stdin!.on('error', () => {});
    createInterface({ input: child.stderr!, crlfDelay: Infinity }).on('line', (line) => plan.onWorkerLog(index + 1, line));
    createInterface({ input: child.stdout!, crlfDelay: Infinity }).on('line', (line) => {
      let message: WorkerMessage;
      try {
        message = decodeWorkerMessage(line);
      } catch (error) {
        fail((error as Error).message);
        return;
      }
      // A worker writes one batch at a time, in the order it was given them: a rejected line is of
      // its oldest batch in flight.
      if (message.type === 'reject') rejects.add(state.inFlight.keys().next().value ?? 0, message);
      else if (message.type === 'error') fail(message.message);
      else {
        const batch = state.inFlight.get(message.batch);
        state.inFlight.delete(message.batch);
        rejects.finished(message.batch);
        totals.linesDone += batch?.lines ?? 0;
        totals.bytesDone += batch?.bytes ?? 0;
        totals.stored += message.stored;
        totals.rejected += message.rejected;
        totals.blank += message.blank;
        plan.onProgress({ ...totals });
        wakeDispatcher();
      }
    });
    const exited = new Promise<void>((resolve) => {
      child.on('error', (error) => {
        fail(error.message);
        resolve();
      });
      child.on('close', (code, signal) => {
        if (code !== 0) fail(`exited with ${signal ?? `code ${code}`}`);
        else if (state.inFlight.size > 0) fail(`exited with ${state.inFlight.size} batches unfinished`);
        resolve();
      });
    });
    return Object.assign(state, { exited });
  });

  /** The worker to give the next batch to, once one has room; undefined when a worker failed. */
  const nextWorker = async (): Promise<WorkerState | undefined> => {
    for (;;) {
      if (failures.length > 0 || plan.signal?.aborted === true) return undefined;
      let best: WorkerState | undefined;
      for (const worker of workers) {
        if (worker.inFlight.size < BATCHES_IN_FLIGHT_PER_WORKER && (best === undefined || worker.inFlight.size < best.inFlight.size)) best = worker;
      }
      if (best !== undefined) return best;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  };

  let linesRead = 0;
  let lineNumber = 0;
  /** The last line handed to a worker. */
  let lastLineHandedOut = (plan.fromLine ?? 1) - 1;
  let batchNumber = 0;
  let lines: NumberedLine[] = [];
  let bytes = 0;
  const dispatch = async (): Promise<boolean> => {
    const worker = await nextWorker();
    if (worker === undefined) return false;
    batchNumber += 1;
    worker.inFlight.set(batchNumber, { lines: lines.length, bytes });
    worker.child.stdin!.write(encodeMessage({ batch: batchNumber, lines }));
    lastLineHandedOut = lines.at(-1)?.[0] ?? lastLineHandedOut;
    lines = [];
    bytes = 0;
    return true;
  };

  /** Every line of the input was handed out (a signal after that interrupts nothing). */
  let reachedEnd = false;
  const input = plan.source.open();
  try {
    // The signal closes the reader too, for an input that is slow to come (a pipe): the loop ends.
    const reader = createInterface({ input, crlfDelay: Infinity, ...(plan.signal === undefined ? {} : { signal: plan.signal }) });
    for await (const text of reader) {
      lineNumber += 1;
      if (lineNumber < (plan.fromLine ?? 1)) {
        // Done by an earlier run: counted as done for the share of the input shown.
        totals.bytesDone += Buffer.byteLength(text) + 1;
        continue;
      }
      if (plan.signal?.aborted === true) break;
      linesRead += 1;
      lines.push([lineNumber, text]);
      bytes += Buffer.byteLength(text) + 1;
      if ((lines.length >= plan.batchSize || bytes >= MAX_BATCH_BYTES) && !(await dispatch())) break;
    }
    if (plan.signal?.aborted !== true && failures.length === 0) reachedEnd = lines.length === 0 || (await dispatch());
  } catch (error) {
    if (plan.signal?.aborted !== true) failures.push(`reading ${plan.source.name}: ${(error as Error).message}`);
  } finally {
    if (input !== process.stdin) input.destroy();
    for (const worker of workers) worker.child.stdin!.end();
  }
  await Promise.all(workers.map((worker) => worker.exited));
  rejects.flush();
  const interrupted = plan.signal?.aborted === true && !reachedEnd;
  return { ...totals, linesRead, failures, interrupted, resumeFromLine: interrupted && failures.length === 0 ? lastLineHandedOut + 1 : null };
}

/** The worker's module beside this one: `.ts` when running from the sources, `.js` when built. */
function workerEntry(): string {
  const extension = extname(fileURLToPath(import.meta.url));
  return fileURLToPath(new URL(`./ingest-worker${extension}`, import.meta.url));
}
