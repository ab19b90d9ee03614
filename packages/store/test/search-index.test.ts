import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { INDEX_BATCH_SEQS, SEARCH_DATABASE_FILE, SEARCH_LOCK_FILE } from '../src/engine/sqlite/sqlite-search-database.js';
import { openStore, type Store } from '../src/index.js';
import { startLockFixture, type FixtureProcess } from './support/processes.js';

/**
 * The search index (FTS5 and the tag rows) lives in a database of its own, memory.search.db, and
 * follows the records in batches under a lock of its own instead of being written in every write
 * transaction; recall() still finds every record acknowledged before it.
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
  const db = new Database(join(dir, SEARCH_DATABASE_FILE));
  try {
    db.prepare(`INSERT INTO records_fts (records_fts) VALUES ('integrity-check')`).run();
    const integrity = db.pragma('integrity_check', { simple: true });
    if (integrity !== 'ok') return String(integrity);
    return 'ok';
  } catch (error) {
    return (error as Error).message;
  } finally {
    db.close();
  }
}

describe('the search index follows the records', () => {
  it('a write holds no index work; the tail is indexed after the commits once it is due, and stays below a batch', async () => {
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

  it('while another process holds the search index, recall searches the tail itself: found at once, with the indexed hits, best first', async () => {
    store = await openStore({ dir, lockTimeoutMs: 20_000 });
    const indexedHit = await store.remember({ content: 'walrus walrus walrus walrus', tags: ['animal'] });
    await store.rememberMany(Array.from({ length: 50 }, (_, index) => ({ content: `filler ${index}` })));
    await store.flush();
    const tailHits = await store.rememberMany([
      { content: 'a walrus in the tail', tags: ['animal', 'tail'] },
      { content: 'no match here', tags: ['animal'] },
    ]);
    expect(await unindexed(store)).toBe(2);
    const holder = startLockFixture('hold-until-told.ts', [join(dir, SEARCH_LOCK_FILE), 'test holder']);
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

  it('writes and recalls go on while another process holds the search index, and while another holds the write lock', async () => {
    store = await openStore({ dir, lockTimeoutMs: 20_000 });
    const searchHolder = startLockFixture('hold-until-told.ts', [join(dir, SEARCH_LOCK_FILE), 'test holder']);
    children.push(searchHolder);
    await searchHolder.waitForLine('held');
    // Past a batch: the writes would index the tail themselves if indexing were part of the write path.
    const written = await store.rememberMany(Array.from({ length: 2 * INDEX_BATCH_SEQS }, (_, index) => ({ content: `narwhal ${index}`, tags: ['sea'] })));
    expect(written).toHaveLength(2 * INDEX_BATCH_SEQS);
    expect(await unindexed(store)).toBe(2 * INDEX_BATCH_SEQS);
    expect(await store.recall({ query: 'narwhal', limit: 1000 })).toHaveLength(2 * INDEX_BATCH_SEQS);
    searchHolder.send('release');
    await searchHolder.waitForLine('released');

    const writeHolder = startLockFixture('hold-until-told.ts', [join(dir, 'memory.db.lock'), 'test holder']);
    children.push(writeHolder);
    await writeHolder.waitForLine('held');
    // Indexing takes only the search index's lock: a recall indexes the tail while writes wait.
    expect(await store.recall({ tags: ['sea'], limit: 1000 })).toHaveLength(2 * INDEX_BATCH_SEQS);
    expect(await unindexed(store)).toBe(0);
    writeHolder.send('release');
    await writeHolder.waitForLine('released');
    await store.close();
    store = undefined;
    expect(ftsIntegrity()).toBe('ok');
  });

  it('a search index that is lost, or that follows another memory.db, is made again from the records', async () => {
    store = await openStore({ dir });
    await store.rememberMany(Array.from({ length: 30 }, (_, index) => ({ content: `okapi ${index}`, tags: ['land'] })));
    await store.close();
    for (const suffix of ['', '-wal', '-shm']) rmSync(join(dir, `${SEARCH_DATABASE_FILE}${suffix}`), { force: true });
    store = await openStore({ dir });
    expect(await unindexed(store)).toBe(30);
    expect(await store.recall({ query: 'okapi', limit: 100 })).toHaveLength(30);
    await store.close();
    // Another store's index in this folder: another store_id.
    const other = mkdtempSync(join(tmpdir(), 'memhub-search-other-'));
    try {
      const otherStore = await openStore({ dir: other });
      await otherStore.rememberMany([{ content: 'okapi from elsewhere' }, { content: 'zebu from elsewhere' }]);
      await otherStore.flush();
      await otherStore.close();
      for (const suffix of ['', '-wal', '-shm']) rmSync(join(dir, `${SEARCH_DATABASE_FILE}${suffix}`), { force: true });
      copyFileSync(join(other, SEARCH_DATABASE_FILE), join(dir, SEARCH_DATABASE_FILE));
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
    store = await openStore({ dir });
    expect(await unindexed(store)).toBe(30);
    expect(await store.recall({ query: 'zebu' })).toEqual([]);
    expect(await store.recall({ query: 'okapi', limit: 100 })).toHaveLength(30);
    expect((await store.verify()).problems).toEqual([]);
  });

  it('a search index of schema version 1 is migrated on open: its entries kept, the index of tag rows by record made partial, so that tag checks read the primary key', async () => {
    store = await openStore({ dir });
    const records = await store.rememberMany(Array.from({ length: 40 }, (_, index) => ({ content: `gnu ${index}`, tags: index % 2 === 0 ? ['herd', 'plains'] : ['herd'] })));
    await store.flush();
    await store.close();
    store = undefined;
    const asVersion1 = new Database(join(dir, SEARCH_DATABASE_FILE));
    asVersion1.exec('DROP INDEX record_tags_by_record; CREATE INDEX record_tags_by_record ON record_tags (record_seq); PRAGMA user_version = 1');
    asVersion1.close();
    store = await openStore({ dir });
    const search = new Database(join(dir, SEARCH_DATABASE_FILE), { readonly: true });
    try {
      expect(search.pragma('user_version', { simple: true })).toBe(2);
      expect(String(search.prepare(`SELECT sql FROM sqlite_schema WHERE name = 'record_tags_by_record'`).pluck().get())).toContain('WHERE record_seq > 0');
      const plan = search.prepare('EXPLAIN QUERY PLAN SELECT 1 FROM record_tags WHERE tag = ? AND record_seq = ?').all('herd', 1) as { detail: string }[];
      expect(plan.map((step) => step.detail).join()).toContain('PRIMARY KEY');
    } finally {
      search.close();
    }
    // Nothing was indexed again: the migration kept the entries.
    expect(await unindexed(store)).toBe(0);
    expect(await store.recall({ query: 'gnu', tags: ['herd', 'plains'], limit: 100 })).toHaveLength(20);
    await store.forget(records[0]!.id);
    await store.flush();
    expect(await store.recall({ tags: ['plains'], limit: 100 })).toHaveLength(19);
    expect((await store.verify()).problems).toEqual([]);
  });

  it('memory.db restored from an older copy (no mirror to notice it): the index of the later state is emptied on open, before a write can reuse its seqs', async () => {
    store = await openStore({ dir, mirror: false });
    await store.rememberMany(Array.from({ length: 10 }, (_, index) => ({ content: `kept ${index}` })));
    await store.close();
    copyFileSync(join(dir, 'memory.db'), join(dir, 'backup.db'));
    store = await openStore({ dir, mirror: false });
    await store.rememberMany(Array.from({ length: 10 }, (_, index) => ({ content: `lost ${index}`, tags: ['lost'] })));
    await store.flush();
    await store.close();
    for (const suffix of ['-wal', '-shm']) rmSync(join(dir, `memory.db${suffix}`), { force: true });
    copyFileSync(join(dir, 'backup.db'), join(dir, 'memory.db'));
    store = await openStore({ dir, mirror: false });
    // The same seqs as the lost records: an index that kept them would find these by the lost words.
    const fresh = await store.rememberMany(Array.from({ length: 10 }, (_, index) => ({ content: `fresh ${index}` })));
    await store.flush();
    expect(await store.recall({ query: 'lost', limit: 100 })).toEqual([]);
    expect(await store.recall({ tags: ['lost'], limit: 100 })).toEqual([]);
    expect((await store.recall({ query: 'fresh', limit: 100 })).map((hit) => hit.id).sort()).toEqual(fresh.map((record) => record.id).sort());
    expect((await store.verify()).problems).toEqual([]);
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
