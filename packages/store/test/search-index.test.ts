import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { INDEX_BATCH_SEQS } from '../src/engine/sqlite/sqlite-search-index.js';
import { openStore, type Store } from '../src/index.js';
import { startLockFixture, type FixtureProcess } from './support/processes.js';

/**
 * The search index (FTS5 and the tag rows) follows the records in batches instead of being written
 * in every write transaction; recall() still finds every record acknowledged before it.
 */
let dir: string;
let store: Store | undefined;
const children: FixtureProcess[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'memhub-search-index-'));
});

afterEach(async () => {
  for (const child of children.splice(0)) {
    child.kill('SIGKILL');
    await child.exited();
  }
  await store?.close();
  store = undefined;
  rmSync(dir, { recursive: true, force: true });
});

async function unindexed(s: Store): Promise<number> {
  return (await s.stats()).search?.unindexedRecords ?? -1;
}

function ftsIntegrity(): string {
  const db = new Database(join(dir, 'memory.db'));
  try {
    db.prepare(`INSERT INTO records_fts (records_fts, rank) VALUES ('integrity-check', 1)`).run();
    return 'ok';
  } catch (error) {
    return (error as Error).message;
  } finally {
    db.close();
  }
}

describe('the search index follows the records', () => {
  it('a write transaction holds no index work until the tail is due; writers keep the tail below a batch', async () => {
    store = await openStore({ dir });
    await store.remember({ content: 'first note about the deploy', tags: ['deploy'] });
    expect(await unindexed(store)).toBe(1);
    for (let index = 0; index < 3 * INDEX_BATCH_SEQS; index += 1) await store.remember({ content: `note ${index}` });
    const tail = await unindexed(store);
    expect(tail).toBeGreaterThan(0);
    expect(tail).toBeLessThan(INDEX_BATCH_SEQS);
  });

  it('recall finds, by words and by tags, records acknowledged a moment ago that the index has not reached', async () => {
    store = await openStore({ dir });
    await store.rememberMany(Array.from({ length: 300 }, (_, index) => ({ content: `older note ${index} about builds`, tags: ['old'] })));
    await store.flush();
    const fresh = await store.rememberMany([
      { content: 'the zebra deploy runbook', tags: ['zebra', 'deploy'] },
      { content: 'a second zebra note', tags: ['zebra'] },
    ]);
    expect(await unindexed(store)).toBe(2);
    expect((await store.recall({ query: 'zebra' })).map((hit) => hit.id).sort()).toEqual(fresh.map((record) => record.id).sort());
    expect(await unindexed(store)).toBe(0); // the recall indexed the tail first
    const more = await store.remember({ content: 'one more zebra', tags: ['zebra', 'deploy'] });
    expect((await store.recall({ tags: ['zebra', 'deploy'] })).map((hit) => hit.id).sort()).toEqual([fresh[0]!.id, more.id].sort());
  });

  it('while another process holds the write lock, recall searches the tail itself: found at once, with the indexed hits, best first', async () => {
    store = await openStore({ dir, lockTimeoutMs: 20_000 });
    const indexedHit = await store.remember({ content: 'walrus walrus walrus walrus', tags: ['animal'] });
    await store.rememberMany(Array.from({ length: 50 }, (_, index) => ({ content: `filler ${index}` })));
    await store.flush();
    const tailHits = await store.rememberMany([
      { content: 'a walrus in the tail', tags: ['animal', 'tail'] },
      { content: 'no match here', tags: ['animal'] },
    ]);
    expect(await unindexed(store)).toBe(2);
    const holder = startLockFixture('hold-until-told.ts', [join(dir, 'memory.db.lock'), 'test holder']);
    children.push(holder);
    await holder.waitForLine('held');

    const started = performance.now();
    const byWords = await store.recall({ query: 'walrus' });
    const byTags = await store.recall({ tags: ['animal'], limit: 10 });
    const byBoth = await store.recall({ query: 'walrus', tags: ['tail'] });
    const elapsed = performance.now() - started;
    expect(byWords.map((hit) => hit.id).sort()).toEqual([indexedHit.id, tailHits[0]!.id].sort());
    expect(byWords[0]!.id).toBe(indexedHit.id); // four walruses in a short note rank first
    expect(byTags.map((hit) => hit.id)).toEqual([tailHits[1]!.id, tailHits[0]!.id, indexedHit.id]); // newest first
    expect(byBoth.map((hit) => hit.id)).toEqual([tailHits[0]!.id]);
    expect(elapsed, 'three recalls, each giving up on the lock after a short wait').toBeLessThan(20_000 / 4);
    expect(await unindexed(store)).toBe(2);

    holder.send('release');
    await holder.waitForLine('released');
    expect((await store.recall({ query: 'walrus' })).map((hit) => hit.id).sort()).toEqual([indexedHit.id, tailHits[0]!.id].sort());
    expect(await unindexed(store)).toBe(0);
  });

  it('forgetting a record before and after it was indexed leaves an index that matches the records', async () => {
    store = await openStore({ dir });
    const [indexed, alsoIndexed] = await store.rememberMany([{ content: 'indexed then forgotten' }, { content: 'indexed and kept' }]);
    await store.flush();
    const [tailOnly] = await store.rememberMany([{ content: 'forgotten before the index reached it' }, { content: 'kept in the tail' }]);
    expect(await unindexed(store)).toBe(2);
    expect(await store.forget(indexed!.id)).toBe(true);
    expect(await store.forget(tailOnly!.id)).toBe(true);
    expect((await store.verify()).problems).toEqual([]);
    await store.flush();
    expect((await store.recall({ query: 'forgotten' })).map((hit) => hit.id)).toEqual([]);
    expect((await store.recall({ query: 'kept' })).map((hit) => hit.content).sort()).toEqual(['indexed and kept', 'kept in the tail']);
    expect(alsoIndexed).toBeDefined();
    await store.close();
    store = undefined;
    expect(ftsIntegrity()).toBe('ok');
  });

  it('close() indexes the tail, and a store opened later finds everything', async () => {
    store = await openStore({ dir });
    await store.rememberMany(Array.from({ length: 40 }, (_, index) => ({ content: `kept ${index}`, tags: ['kept'] })));
    await store.close();
    store = await openStore({ dir });
    expect(await unindexed(store)).toBe(0);
    expect(await store.recall({ tags: ['kept'], limit: 100 })).toHaveLength(40);
  });
});
