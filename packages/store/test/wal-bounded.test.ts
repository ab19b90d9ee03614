import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '../src/index.js';
import { startStoreFixture, type FixtureProcess } from './support/processes.js';

let dir: string;
const children: FixtureProcess[] = [];
const MiB = 1024 * 1024;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'memhub-store-wal-'));
});

afterEach(() => {
  for (const child of children.splice(0)) child.kill();
  rmSync(dir, { recursive: true, force: true });
});

/** Records of the burst: 60 transactions of 100 records of 4 KiB, about 24 MiB of content. */
const BATCHES = 60;
const BATCH_RECORDS = 100;
const CONTENT = 'w'.repeat(4096);
const CONTENT_BYTES = BATCHES * BATCH_RECORDS * CONTENT.length;
/** The bounded run's threshold: a twelfth of what the burst writes. */
const CHECKPOINT_BYTES = 2 * MiB;

/** Writes the burst while two overlapping readers never stop; returns the largest WAL seen. */
async function writeUnderReaders(walCheckpointBytes: number, settle: boolean) {
  const warnings: string[] = [];
  const store = await openStore({ dir, walCheckpointBytes, logger: { warn: (details, message) => warnings.push(`${message} ${JSON.stringify(details)}`) } });
  await store.remember({ content: 'first' });
  for (let index = 0; index < 2; index += 1) {
    const reader = startStoreFixture('overlapping-reader.ts', [join(dir, 'memory.db'), '40']);
    children.push(reader);
    await reader.waitForLine('reading');
    await new Promise((resolve) => setTimeout(resolve, 20)); // half a hold apart
  }
  let largestWal = 0;
  for (let batch = 0; batch < BATCHES; batch += 1) {
    await store.rememberMany(Array.from({ length: BATCH_RECORDS }, (_, index) => ({ content: `${CONTENT} ${batch}.${index}` })));
    largestWal = Math.max(largestWal, (await store.stats()).walBytes ?? 0);
  }
  if (settle) {
    // The readers go on. A checkpoint they starved is retried with backoff (250 ms, doubling), so
    // on a loaded machine the last tries of the burst may have failed: keep writing a little, as
    // a live store does, until the writer has reset the WAL once more, and twice in all. The
    // deadline only stops a store that never resets it: the retries' backoff, 8 s at most between
    // two tries, keeps a working one well inside it, however loaded the machine.
    const completedAfterBurst = (await store.stats()).checkpoints!.completed;
    const settled = async () => {
      const { completed } = (await store.stats()).checkpoints!;
      return completed > completedAfterBurst && completed >= 2;
    };
    const deadline = performance.now() + 30_000;
    while (!(await settled()) && performance.now() < deadline) {
      await store.remember({ content: 'after the burst' });
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  const { checkpoints = { completed: 0, starved: 0 }, walBytes: finalWal = 0 } = await store.stats();
  for (const child of children.splice(0)) child.kill();
  await store.close();
  return { largestWal, finalWal, checkpoints, warnings };
}

describe('the WAL stays bounded while readers never stop', () => {
  it('grows without end when nothing but SQLite autocheckpoints run (the starvation is real)', async () => {
    const { largestWal, finalWal } = await writeUnderReaders(1024 * MiB, false);
    // The WAL holds (nearly) every byte written: no checkpoint ever restarted it.
    expect(largestWal).toBeGreaterThan(0.8 * CONTENT_BYTES);
    expect(finalWal).toBe(largestWal);
  });

  it('is reset again and again by the writer checkpointing under the write lock', async () => {
    const { finalWal, checkpoints, warnings } = await writeUnderReaders(CHECKPOINT_BYTES, true);
    // Against readers that never pause, a checkpoint can starve (then it backs off and retries),
    // so the peak depends on the write rate, and so on the machine's load; but the WAL does not
    // grow without end: once the writer has reset it, it is back under its threshold (a WAL that
    // nobody reset would hold the whole burst, twelve times the threshold).
    expect(checkpoints.completed).toBeGreaterThanOrEqual(2);
    expect(finalWal).toBeLessThan(CHECKPOINT_BYTES);
    // A checkpoint the readers kept from finishing is reported, not hidden.
    expect(warnings).toHaveLength(checkpoints.starved);
  });
});
