import { hrtime } from 'node:process';
import { median, relativeSpread } from '../shared/statistics.js';

/** One row to measure: `run(count)` performs `count` operations back to back. */
export interface ThroughputCase {
  readonly name: string;
  readonly run: (count: number) => void | Promise<void>;
}

export interface ThroughputOptions {
  /** Run each case this long before measuring, so that the JIT and the caches are warm. */
  readonly warmupMs: number;
  /** Length of one measured repetition of one case. */
  readonly repetitionMs: number;
  readonly repetitions: number;
  /** Operations are timed in batches about this long, so that reading the clock costs nothing measurable. */
  readonly batchMs: number;
}

export interface ThroughputResult {
  readonly name: string;
  /** Operations per second of each repetition, in the order they ran. */
  readonly opsPerSecond: readonly number[];
  readonly medianOpsPerSecond: number;
  readonly medianNsPerOp: number;
  /** (max - min) / median of the repetitions: how far the median can be trusted. */
  readonly spread: number;
}

const NS_PER_MS = 1e6;

async function timeBatch(testCase: ThroughputCase, count: number): Promise<number> {
  const start = hrtime.bigint();
  const pending = testCase.run(count);
  if (pending !== undefined) await pending;
  return Number(hrtime.bigint() - start);
}

/** Doubles the batch until one lasts `batchMs`, then scales it to that length. */
async function calibrateBatch(testCase: ThroughputCase, batchMs: number): Promise<number> {
  for (let count = 1; ; count *= 2) {
    const ns = await timeBatch(testCase, count);
    if (ns >= batchMs * NS_PER_MS || count >= 2 ** 24) {
      return Math.max(1, Math.round((count * batchMs * NS_PER_MS) / Math.max(ns, 1)));
    }
  }
}

/** Runs whole batches until `durationMs` of timed work is done; only time inside batches counts. */
async function runFor(testCase: ThroughputCase, batch: number, durationMs: number): Promise<{ ops: number; ns: number }> {
  let ops = 0;
  let ns = 0;
  while (ns < durationMs * NS_PER_MS) {
    ns += await timeBatch(testCase, batch);
    ops += batch;
  }
  return { ops, ns };
}

/**
 * Measures every case for `repetitions` rounds and reports the median of each. The rounds are
 * interleaved (case 1, 2, 3, then 1, 2, 3 again...) rather than run case by case, so that a
 * slow patch of the machine (a noisy neighbour, a frequency change) hits every row alike and the
 * ratios between rows stay fair even when the absolute numbers wobble.
 */
export async function measureThroughput(
  cases: readonly ThroughputCase[],
  options: ThroughputOptions,
  onProgress: (message: string) => void = () => {},
): Promise<ThroughputResult[]> {
  const batches: number[] = [];
  for (const testCase of cases) {
    onProgress(`warming up: ${testCase.name}`);
    const batch = await calibrateBatch(testCase, options.batchMs);
    await runFor(testCase, batch, options.warmupMs);
    batches.push(batch);
  }
  const samples: number[][] = cases.map(() => []);
  for (let repetition = 1; repetition <= options.repetitions; repetition += 1) {
    onProgress(`repetition ${repetition}/${options.repetitions}`);
    for (const [index, testCase] of cases.entries()) {
      const { ops, ns } = await runFor(testCase, batches[index] ?? 1, options.repetitionMs);
      samples[index]?.push(ops / (ns / 1e9));
    }
  }
  return cases.map((testCase, index) => {
    const opsPerSecond = samples[index] ?? [];
    const medianOpsPerSecond = median(opsPerSecond);
    return {
      name: testCase.name,
      opsPerSecond,
      medianOpsPerSecond,
      medianNsPerOp: 1e9 / medianOpsPerSecond,
      spread: relativeSpread(opsPerSecond),
    };
  });
}
