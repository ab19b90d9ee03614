/**
 * One process of `pnpm soak` (started by soak/run.ts):
 *
 *   node --conditions=@memhub/source --import tsx soak/worker.ts '<SoakWorkerSpec as JSON>'
 *
 * It opens the store, says `ready`, and on `go` runs an agent's steady workload until `exit`:
 * remembers and recalls, `inFlight` calls at a time, and once it holds `keep` records of its own it
 * forgets its oldest one for each new one, so the store stays the same size and any trend in the
 * figures comes from memhub, not from a growing database. Every second it prints
 * `tick <SoakTick as JSON>` (running totals and its memory); on `exit` it finishes its calls,
 * closes the store and prints `result <SoakResult as JSON>`.
 */
import { createInterface } from 'node:readline';
import { openStore } from '@memhub/store';
import { EXIT_LINE, GO_PREFIX, READY_LINE, RESULT_PREFIX } from '../shared/line-protocol.js';

export interface SoakWorkerSpec {
  readonly dir: string;
  readonly worker: number;
  readonly inFlight: number;
  readonly keep: number;
  readonly walCheckpointBytes: number;
}

export interface SoakTick {
  readonly at: number;
  readonly remembers: number;
  readonly recalls: number;
  readonly forgets: number;
  readonly errors: number;
  /** The slowest call since the last tick, in milliseconds. */
  readonly slowestMs: number;
  readonly rssBytes: number;
  readonly heapBytes: number;
}

export interface SoakResult {
  readonly firstError: string | undefined;
  readonly checkpoints: { readonly completed: number; readonly starved: number };
}

const WORDS = ['deploy', 'build', 'review', 'incident', 'schema', 'cache', 'latency', 'agent', 'memory', 'index', 'queue', 'retry'];

const spec = JSON.parse(process.argv[2] ?? '{}') as SoakWorkerSpec;
const store = await openStore({ dir: spec.dir, walCheckpointBytes: spec.walCheckpointBytes });
const totals = { remembers: 0, recalls: 0, forgets: 0, errors: 0 };
let slowestMs = 0;
let firstError: string | undefined;
let running = true;
const mine: string[] = [];
let counter = 0;

const word = () => WORDS[Math.floor(Math.random() * WORDS.length)] as string;

async function step(): Promise<void> {
  const started = performance.now();
  try {
    if (Math.random() < 0.65) {
      counter += 1;
      const record = await store.remember({
        content: `worker ${spec.worker} note ${counter}: ${word()} ${word()} ${word()} ${'detail '.repeat(counter % 20)}`,
        tags: [word(), `w${spec.worker}`],
        contextPath: `/soak/${spec.worker}/${counter % 10}`,
      });
      totals.remembers += 1;
      mine.push(record.id);
      if (mine.length > spec.keep) {
        await store.forget(mine.shift() as string);
        totals.forgets += 1;
      }
    } else {
      await store.recall({ query: word(), tags: Math.random() < 0.3 ? [word()] : [], limit: 10 });
      totals.recalls += 1;
    }
  } catch (error) {
    totals.errors += 1;
    firstError ??= error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  }
  slowestMs = Math.max(slowestMs, performance.now() - started);
}

const commands = createInterface({ input: process.stdin });
const lines = commands[Symbol.asyncIterator]();
process.stdout.write(`${READY_LINE}\n`);
const go = await lines.next();
if (go.done === true || !String(go.value).startsWith(GO_PREFIX)) process.exit(1);

const ticker = setInterval(() => {
  const memory = process.memoryUsage();
  const tick: SoakTick = { at: Date.now(), ...totals, slowestMs, rssBytes: memory.rss, heapBytes: memory.heapUsed };
  slowestMs = 0;
  process.stdout.write(`tick ${JSON.stringify(tick)}\n`);
}, 1_000);
const lanes = Array.from({ length: spec.inFlight }, async () => {
  while (running) await step();
});
for (let next = await lines.next(); next.done !== true; next = await lines.next()) {
  if (next.value === EXIT_LINE) break;
}
running = false;
await Promise.all(lanes);
clearInterval(ticker);
const stats = await store.stats();
await store.close();
commands.close();
const result: SoakResult = { firstError, checkpoints: { completed: stats.checkpoints?.completed ?? 0, starved: stats.checkpoints?.starved ?? 0 } };
process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(result)}\n`);
