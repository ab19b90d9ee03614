import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type MemoryRecord } from '../src/index.js';
import { asStored } from './support/stored-record.js';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'memhub-mirror-index-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('the layer index', () => {
  it('after 100,000 remembers, a record is read from the JSONL file with one line read; the index was updated far fewer times than lines were appended', async () => {
    const total = 100_000;
    const store = await openStore({ dir });
    const kept: MemoryRecord[] = [];
    let next = 0;
    // 64 callers at a time, as a busy process: group commits of tens of records, one append each.
    const lane = async () => {
      while (next < total) {
        const index = next;
        next += 1;
        const record = await store.remember({ content: `indexed memory number ${index}`, tags: [`t${index % 10}`] });
        if (index % 4_999 === 0) kept.push(asStored(record));
      }
    };
    await Promise.all(Array.from({ length: 64 }, lane));
    const forgotten = kept.pop()!;
    await store.forget(forgotten.id);
    await store.flush();

    const [application] = (await store.stats()).mirror!;
    expect(application).toMatchObject({ layer: 'application', linesAppended: total + 1 });
    // The file follows the commits in batches of a few hundred lines (one append, not one per group commit)...
    expect(application!.appends).toBeGreaterThan(100);
    expect(application!.appends).toBeLessThan(total / 100);
    // ...and the index follows the file in larger ones: about one update per thousand lines, never one per append.
    expect(application!.indexUpdates).toBeLessThan(application!.appends / 2);
    expect(application!.indexUpdates).toBeLessThanOrEqual(Math.ceil(total / 1_000) + 5);
    await store.close();

    const reopened = await openStore({ dir });
    try {
      const indexBytes = statSync(join(dir, 'layers', 'application.idx')).size;
      expect(indexBytes).toBe(64 + 32 * (total + 1));
      for (const record of kept) {
        const found = await reopened.readFromMirror('application', record.id);
        expect(found).toEqual({ record, linesRead: 1 });
      }
      expect(await reopened.readFromMirror('application', forgotten.id)).toEqual({ record: null, linesRead: 1 });
      expect(await reopened.readFromMirror('application', 'no-such-id')).toEqual({ record: null, linesRead: 0 });
      const report = await reopened.verify();
      expect(report.ok).toBe(true);
      expect(report.layers[0]!.index).toMatchObject({ ok: true, entries: total + 1 });
    } finally {
      await reopened.close();
    }
  }, 120_000);
});
