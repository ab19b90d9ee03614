import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, StoreValidationError, type Store } from '../src/index.js';
import { startStoreFixture, type FixtureProcess } from './support/processes.js';

let dir: string;
let store: Store;
const children: FixtureProcess[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'memhub-store-recall-'));
  store = await openStore({ dir });
});

afterEach(async () => {
  for (const child of children.splice(0)) child.kill();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('recall', () => {
  it('finds by words, best bm25 match first, and takes no query syntax from the words', async () => {
    await store.remember({ content: 'The deploy script needs Node 20 and pnpm 10' });
    await store.remember({ content: 'Deploy deploy deploy: the deploy runbook' });
    await store.remember({ content: 'Unrelated note about lunch' });
    const hits = await store.recall({ query: 'deploy' });
    expect(hits.map((hit) => hit.content)).toEqual(['Deploy deploy deploy: the deploy runbook', 'The deploy script needs Node 20 and pnpm 10']);
    expect(await store.recall({ query: 'deploy AND NOT "lunch" OR col:*' })).toHaveLength(3);
  });

  it('filters by all of the tags, a contextPath prefix, layer and time', async () => {
    const before = Date.now();
    await store.remember({ content: 'a', tags: ['x', 'y'], contextPath: '/proj/a' });
    await store.remember({ content: 'b', tags: ['x'], contextPath: '/proj/a/b' });
    await store.remember({ content: 'c', tags: ['x', 'y'], contextPath: '/proj/ab' });
    await store.remember({ content: 'd', tags: ['y'], contextPath: '/Proj/a', layer: 'archive' });
    const contents = async (query: Parameters<Store['recall']>[0]) => (await store.recall(query)).map((hit) => hit.content).sort();
    expect(await contents({ tags: ['x', 'y'] })).toEqual(['a', 'c']);
    expect(await contents({ contextPath: '/proj/a' })).toEqual(['a', 'b']);
    expect(await contents({ contextPath: '/proj/a/' })).toEqual(['a', 'b']);
    expect(await contents({ layer: 'archive' })).toEqual(['d']);
    expect(await contents({ since: before, until: Date.now() + 1 })).toEqual(['a', 'b', 'c', 'd']);
    expect(await contents({ until: before - 1 })).toEqual([]);
    expect(await contents({ tags: ['x'], contextPath: '/proj/a', layer: 'application' })).toEqual(['a', 'b']);
    expect((await store.recall({ limit: 2 })).map((hit) => hit.content)).toEqual(['d', 'c']);
  });

  it('a contextPath prefix takes exactly the path and the paths below it, whatever characters sort beside "/"', async () => {
    const paths = ['/proj/a', '/proj/a/b', '/proj/a-b', '/proj/a.b', '/proj/a0', '/proj/a/%_', '/proj/a/\u00e9', '/proj/ab'];
    for (const contextPath of paths) await store.remember({ content: contextPath, contextPath });
    const found = async (contextPath: string) => (await store.recall({ contextPath, limit: 100 })).map((hit) => hit.content).sort();
    expect(await found('/proj/a')).toEqual(['/proj/a', '/proj/a/%_', '/proj/a/b', '/proj/a/\u00e9']);
    expect(await found('/proj/a/%_')).toEqual(['/proj/a/%_']);
    expect(await found('/proj/a-b')).toEqual(['/proj/a-b']);
    expect(await found('/')).toHaveLength(paths.length);
  });

  it('counts each recall, and writes the counts on flush', async () => {
    const record = await store.remember({ content: 'counted' });
    expect((await store.recall({ query: 'counted' }))[0]?.recallCount).toBe(1);
    expect((await store.recall({ query: 'counted' }))[0]?.recallCount).toBe(2);
    expect((await store.get(record.id))?.recallCount).toBe(0);
    await store.flush();
    expect((await store.get(record.id))?.recallCount).toBe(2);
    expect((await store.stats()).pendingRecallCounts).toBe(0);
  });

  it('includes this recall in every returned count, also when the recall itself starts a flush', async () => {
    await store.close();
    store = await openStore({ dir, recallFlushPending: 3 });
    await store.rememberMany(Array.from({ length: 10 }, (_, index) => ({ content: `item ${index}` })));
    expect((await store.recall({ limit: 10 })).map((hit) => hit.recallCount)).toEqual(Array(10).fill(1));
    expect((await store.recall({ limit: 10 })).map((hit) => hit.recallCount)).toEqual(Array(10).fill(2));
    await store.flush();
    expect((await store.recall({ limit: 10 })).map((hit) => hit.recallCount)).toEqual(Array(10).fill(3));
  });

  it.each([
    [{ query: '   ' }, 'query'],
    [{ query: 42 }, 'query'],
    [{ tags: 'x' }, 'tags'],
    [{ contextPath: 'relative' }, 'contextPath'],
    [{ layer: '../x' }, 'layer'],
    [{ since: 'yesterday' }, 'since'],
    [{ limit: 0 }, 'limit'],
    [{ limit: 1.5 }, 'limit'],
    [{ colour: 'red' }, 'colour'],
  ])('refuses %j with an error naming %s', async (query, field) => {
    await expect(store.recall(query as never)).rejects.toMatchObject({ field, constructor: StoreValidationError });
  });
});

describe('recall counts from many processes', () => {
  it('4 processes x 1000 recalls of one record, then close: its count is exactly 4000', async () => {
    const record = await store.remember({ content: 'the shared fact everyone recalls' });
    const recallers = Array.from({ length: 4 }, () => {
      const child = startStoreFixture('store-recaller.ts', [dir, '1000', 'shared fact']);
      children.push(child);
      return child;
    });
    await Promise.all(recallers.map((child) => child.waitForLine('ready')));
    for (const child of recallers) child.send('go');
    const results = await Promise.all(recallers.map((child) => Promise.race([child.waitForLine('done', 120_000), child.waitForLine('error', 120_000)])));
    expect(results).toEqual(['done 1000', 'done 1000', 'done 1000', 'done 1000']);
    expect((await store.get(record.id))?.recallCount).toBe(4000);
  });
});
