// An ingest worker process: opens the store, reads batches of input lines on stdin, writes each
// batch with rememberMany, and reports on stdout (see ingest-protocol.ts). Started by
// `memhub ingest`, never by hand: its only argument is the store's openStore options as JSON.
import { createInterface } from 'node:readline';
import { StoreValidationError, type RememberInput, type Store } from '@memhub/store';
import { openTargetStore, type StoreTarget } from '../store-target.js';
import { encodeMessage, type BatchMessage, type NumberedLine, type WorkerMessage } from './ingest-protocol.js';

function send(message: WorkerMessage): void {
  process.stdout.write(encodeMessage(message));
}

interface Candidate {
  readonly lineNumber: number;
  readonly text: string;
  readonly input: RememberInput;
}

/** rememberMany names a bad item as `items[3].content`: its index, and the field within it. */
const ITEM_FIELD = /^items\[(\d+)\](?:\.(.+))?$/;

/**
 * Writes one batch. Lines that are not JSON objects are rejected here; the store checks the
 * fields. rememberMany writes all or nothing and names the first bad item, so a bad item is
 * taken out and the rest tried again: the good lines of a batch are written in one transaction,
 * and a batch with k bad lines costs k validations that write nothing, not k transactions.
 */
async function writeBatch(store: Store, lines: readonly NumberedLine[]): Promise<{ stored: number; rejected: number; blank: number }> {
  let rejected = 0;
  let blank = 0;
  const reject = (lineNumber: number, text: string, reason: string) => {
    rejected += 1;
    send({ type: 'reject', line: lineNumber, reason, text });
  };
  const candidates: Candidate[] = [];
  for (const [lineNumber, text] of lines) {
    if (text.trim() === '') {
      blank += 1;
      continue;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      reject(lineNumber, text, `not JSON: ${(error as Error).message}`);
      continue;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      reject(lineNumber, text, 'expected a JSON object such as {"content": "...", "tags": ["..."]}');
      continue;
    }
    candidates.push({ lineNumber, text, input: value as RememberInput });
  }
  while (candidates.length > 0) {
    try {
      await store.rememberMany(candidates.map((candidate) => candidate.input));
      break;
    } catch (error) {
      if (!(error instanceof StoreValidationError)) throw error;
      const item = ITEM_FIELD.exec(error.field);
      if (item === null) throw error;
      const [bad] = candidates.splice(Number(item[1]), 1);
      if (bad === undefined) throw error;
      reject(bad.lineNumber, bad.text, `Invalid ${item[2] ?? 'line'}: ${error.reason}`);
    }
  }
  return { stored: candidates.length, rejected, blank };
}

async function main(): Promise<void> {
  // Ctrl-C in a terminal signals the whole process group, this worker included. The parent decides
  // what an interrupt means: it stops handing out lines and closes stdin, and this worker finishes
  // the batches it was given, so that everything handed out is written and the run can be resumed
  // from the first line not handed out.
  process.on('SIGINT', () => {});
  const target = JSON.parse(process.argv[2] ?? '{}') as StoreTarget;
  const store = await openTargetStore(target, { mustExist: false });
  try {
    // One batch at a time: the parent keeps a second one queued here, so the worker never waits for input.
    for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
      if (line === '') continue;
      const message = JSON.parse(line) as BatchMessage;
      const result = await writeBatch(store, message.lines);
      send({ type: 'batch', batch: message.batch, ...result });
    }
  } finally {
    await store.close();
  }
}

main().catch((error: unknown) => {
  send({ type: 'error', message: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
  process.exitCode = 1;
});
