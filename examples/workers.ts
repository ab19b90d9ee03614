// Several worker threads sharing one memory store.
//
//   pnpm --filter @memhub/examples workers            (from the repository root)
//
// Four worker threads of one process each open the store in .memhub/workers-demo (in the folder
// where you run it) and, once all four have it open, together remember 500 notes each, 16 at a
// time, and recall what the next thread wrote while they write. Each thread opens the store for itself: the store's lock excludes threads exactly
// as it excludes processes. Then the main thread checks that every acknowledged note is there
// exactly once, and exits non-zero if not.
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { openStore } from '@memhub/store';

const THREADS = 4;
const NOTES = 500;
const IN_FLIGHT = 16;

interface ThreadReport {
  thread: number;
  ids: string[];
  recalls: number;
  hits: number;
  ms: number;
}

/** One worker thread: opens the store, says `ready`, and on `go` remembers its notes and recalls the next thread's while it goes. */
async function runThread(dir: string, thread: number): Promise<ThreadReport> {
  const store = await openStore({ dir });
  const go = new Promise((resolveGo) => parentPort!.once('message', resolveGo));
  parentPort!.postMessage('ready');
  await go;
  const started = performance.now();
  const ids: string[] = [];
  let next = 0;
  let recalls = 0;
  let hits = 0;
  const lane = async () => {
    while (next < NOTES) {
      const index = next++;
      const record = await store.remember({
        content: `thread ${thread} noted fact ${index} about the migration`,
        tags: [`thread-${thread}`],
        contextPath: `/threads/${thread}`,
        key: `thread-${thread}-note-${index}`,
      });
      ids.push(record.id);
      if (index % 25 === 0) {
        recalls += 1;
        const found = await store.recall({ query: 'migration fact', tags: [`thread-${(thread + 1) % THREADS}`], limit: 5 });
        hits += found.length;
      }
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
  await store.close();
  return { thread, ids, recalls, hits, ms: performance.now() - started };
}

/**
 * Starts a worker thread on this file. Run as TypeScript (through tsx), a worker on Node 20 does
 * not inherit tsx's loader for its entry file, so the worker registers tsx before importing it.
 */
function startThread(data: { dir: string; thread: number }): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL(import.meta.url), { workerData: data });
  const bootstrap = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(import.meta.url)}); });`;
  return new Worker(bootstrap, { eval: true, workerData: data });
}

async function main(): Promise<void> {
  const dir = resolve(process.env['INIT_CWD'] ?? process.cwd(), '.memhub', 'workers-demo');
  rmSync(dir, { recursive: true, force: true });
  console.log(`${THREADS} worker threads x ${NOTES} notes (${IN_FLIGHT} in flight each) on one store: ${dir}\n`);
  // Starting a thread (and compiling this file in it) takes longer than its work: each thread
  // says `ready` once its store is open, and all of them get `go` together, so that they really
  // write at the same time and the throughput below counts the writing only.
  let started = 0;
  let ready = 0;
  const workers: Worker[] = [];
  const reports = await Promise.all(
    Array.from(
      { length: THREADS },
      (_, thread) =>
        new Promise<ThreadReport>((resolveReport, reject) => {
          const worker = startThread({ dir, thread });
          workers.push(worker);
          worker.on('message', (message: 'ready' | ThreadReport) => {
            if (message !== 'ready') resolveReport(message);
            else if (++ready === THREADS) {
              started = performance.now();
              for (const each of workers) each.postMessage('go');
            }
          });
          worker.once('error', reject);
          worker.once('exit', (code) => reject(new Error(`thread ${thread} exited with ${code} before reporting`)));
        }),
    ),
  );
  const elapsedMs = performance.now() - started;

  console.log('  thread  remembered  recalls  hits       ms');
  for (const report of reports) {
    console.log(
      `  ${String(report.thread).padStart(6)}  ${String(report.ids.length).padStart(10)}  ${String(report.recalls).padStart(7)}` +
        `  ${String(report.hits).padStart(4)}  ${report.ms.toFixed(0).padStart(7)}`,
    );
  }

  const store = await openStore({ dir });
  const { records } = await store.stats();
  let missing = 0;
  let foreign = 0;
  for (const report of reports) {
    const found = await store.recall({ contextPath: `/threads/${report.thread}`, limit: 1000 });
    const acknowledged = new Set(report.ids);
    missing += [...acknowledged].filter((id) => !found.some((record) => record.id === id)).length;
    foreign += found.filter((record) => !acknowledged.has(record.id)).length;
  }
  await store.close();
  const expected = THREADS * NOTES;
  const acknowledged = new Set(reports.flatMap((report) => report.ids)).size;
  console.log(`\nacknowledged: ${acknowledged} distinct records; in the store: ${records} (expected ${expected}), ${missing} missing, ${foreign} not acknowledged`);
  console.log(`throughput: ${((expected / elapsedMs) * 1000).toFixed(0)} remembers/s across ${THREADS} threads`);
  const ok = records === expected && acknowledged === expected && missing === 0 && foreign === 0;
  console.log(ok ? 'OK: nothing lost, nothing doubled.' : 'FAIL: the store does not hold exactly what was acknowledged.');
  if (!ok) process.exitCode = 1;
}

if (isMainThread) {
  await main();
} else {
  const { dir, thread } = workerData as { dir: string; thread: number };
  parentPort!.postMessage(await runThread(dir, thread));
}
