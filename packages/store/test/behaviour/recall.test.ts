import { expect, it } from 'vitest';
import { StoreValidationError, type Store } from '../../src/index.js';
import { describeEachEngine } from '../support/engines.js';

describeEachEngine('recall', (engine) => {
  const contents = async (store: Store, query: Parameters<Store['recall']>[0]) => (await store.recall(query)).map((hit) => hit.content).sort();

  it('finds any of the words, best match first, ties newest first, and takes no query syntax from the words', async () => {
    const store = await engine.open();
    await store.remember({ content: 'The deploy script needs Node 20 and pnpm 10' });
    await store.remember({ content: 'Deploy deploy deploy: the deploy runbook' });
    await store.remember({ content: 'Unrelated note about lunch' });
    await store.remember({ content: 'Another deploy note' });
    expect((await store.recall({ query: 'deploy' })).map((hit) => hit.content)).toEqual([
      'Deploy deploy deploy: the deploy runbook',
      'Another deploy note',
      'The deploy script needs Node 20 and pnpm 10',
    ]);
    expect(await contents(store, { query: 'lunch runbook' })).toEqual(['Deploy deploy deploy: the deploy runbook', 'Unrelated note about lunch']);
    expect(await store.recall({ query: 'deploy AND NOT "lunch" OR col:* & | ! <-> ( \\ \'' })).toHaveLength(4);
    expect(await store.recall({ query: 'NODE' })).toHaveLength(1);
    expect(await store.recall({ query: 'absent' })).toEqual([]);
  });

  it('finds the English forms of a word (stems), and a word ending in * as a prefix; no stop words are dropped', async () => {
    const store = await engine.open();
    await store.rememberMany([
      { content: 'Deploys go out on Tuesdays' },
      { content: 'we deployed the api' },
      { content: 'deploying needs Node 20' },
      { content: 'the deployment checklist' },
      { content: 'lunch at noon' },
    ]);
    // The engines' stemmers (SQLite's porter, PostgreSQL's snowball) agree on plurals and verb
    // forms; on derived nouns they may not ("deployment": deploy on PostgreSQL, not in SQLite).
    const stemmed = await contents(store, { query: 'deploy' });
    expect(stemmed).toEqual(expect.arrayContaining(['Deploys go out on Tuesdays', 'deploying needs Node 20', 'we deployed the api']));
    expect(stemmed).not.toContain('lunch at noon');
    expect(await contents(store, { query: 'depl*' })).toEqual(['Deploys go out on Tuesdays', 'deploying needs Node 20', 'the deployment checklist', 'we deployed the api']);
    expect(await contents(store, { query: 'tuesday' })).toEqual(['Deploys go out on Tuesdays']);
    expect(await contents(store, { query: 'the' })).toEqual(['the deployment checklist', 'we deployed the api']);
    // A `*` ends the prefix before it ('lun*ch': the prefix lun, and the word ch); alone, it is nothing to search for.
    expect(await contents(store, { query: 'lun*ch' })).toEqual(['lunch at noon']);
    await expect(store.recall({ query: '*' })).rejects.toMatchObject({ field: 'query' });
  });

  it('filters by any of the tags (beside all of them), and by metadata values of top-level keys, JSON types included', async () => {
    const store = await engine.open();
    await store.rememberMany([
      { content: 'a', tags: ['red'], metadata: { source: 'runbook', reviewed: true, level: 1 } },
      { content: 'b', tags: ['blue', 'red'], metadata: { source: 'chat', reviewed: false, level: '1' } },
      { content: 'c', tags: ['green'], metadata: { source: 'runbook', reviewed: null, level: 1.5, 'odd key "x".y': 'v' } },
      { content: 'd', metadata: { nested: { source: 'runbook' }, nul: 'a\u0000b' } },
    ]);
    expect(await contents(store, { anyTags: ['blue', 'green'] })).toEqual(['b', 'c']);
    expect(await contents(store, { anyTags: ['blue', 'green'], tags: ['red'] })).toEqual(['b']);
    expect(await contents(store, { metadata: { source: 'runbook' } })).toEqual(['a', 'c']);
    expect(await contents(store, { metadata: { source: 'runbook', reviewed: true } })).toEqual(['a']);
    expect(await contents(store, { metadata: { reviewed: false } })).toEqual(['b']);
    expect(await contents(store, { metadata: { reviewed: null } })).toEqual(['c']);
    // Types must match: 1 is not "1", and true is not 1.
    expect(await contents(store, { metadata: { level: 1 } })).toEqual(['a']);
    expect(await contents(store, { metadata: { level: '1' } })).toEqual(['b']);
    expect(await contents(store, { metadata: { reviewed: 1 } })).toEqual([]);
    expect(await contents(store, { metadata: { level: 1.5 } })).toEqual(['c']);
    expect(await contents(store, { metadata: { 'odd key "x".y': 'v' } })).toEqual(['c']);
    // PostgreSQL's json functions cannot read a document with a NUL in it: there, metadata filters
    // pass such a record over (documented), where SQLite compares it like any other.
    expect(await contents(store, { metadata: { nul: 'a\u0000b' } })).toEqual(engine.name === 'sqlite' ? ['d'] : []);
    // Top-level keys only: a nested key is not looked into.
    expect(await contents(store, { metadata: { 'nested.source': 'runbook' } })).toEqual([]);
    expect(await contents(store, { query: 'c', metadata: { source: 'runbook' }, anyTags: ['green'] })).toEqual(['c']);
    await expect(store.recall({ metadata: { source: { nested: 1 } } as never })).rejects.toMatchObject({ field: 'metadata.source' });
    await expect(store.recall({ metadata: ['x'] as never })).rejects.toMatchObject({ field: 'metadata' });
    await expect(store.recall({ anyTags: [''] })).rejects.toMatchObject({ field: 'anyTags[0]' });
  });

  it('filters by all of the tags, a contextPath prefix (not a string prefix, no wildcards), layer and time', async () => {
    const store = await engine.open();
    const before = Date.now();
    await store.remember({ content: 'a', tags: ['x', 'y'], contextPath: '/proj/a' });
    await store.remember({ content: 'b', tags: ['x'], contextPath: '/proj/a/b' });
    await store.remember({ content: 'c', tags: ['x', 'y'], contextPath: '/proj/ab' });
    await store.remember({ content: 'd', tags: ['y'], contextPath: '/Proj/a', layer: 'archive' });
    await store.remember({ content: 'e', contextPath: '/proj/a_b/c' });
    await store.remember({ content: 'f', contextPath: '/proj/a%b' });
    await store.remember({ content: 'g', contextPath: '/proj/a.' });
    expect(await contents(store, { tags: ['x', 'y'] })).toEqual(['a', 'c']);
    expect(await contents(store, { tags: ['y', 'x', 'z'] })).toEqual([]);
    expect(await contents(store, { contextPath: '/proj/a' })).toEqual(['a', 'b']);
    expect(await contents(store, { contextPath: '/proj/a/' })).toEqual(['a', 'b']);
    expect(await contents(store, { contextPath: '/proj/a_b' })).toEqual(['e']);
    expect(await contents(store, { contextPath: '/proj/a%b' })).toEqual(['f']);
    expect(await contents(store, { contextPath: '/proj' })).toEqual(['a', 'b', 'c', 'e', 'f', 'g']);
    expect(await contents(store, { contextPath: '/' })).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g']);
    expect(await contents(store, { layer: 'archive' })).toEqual(['d']);
    expect(await contents(store, { since: before, until: Date.now() + 1 })).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g']);
    expect(await contents(store, { until: before - 1 })).toEqual([]);
    expect(await contents(store, { since: new Date(Date.now() + 60_000) })).toEqual([]);
    expect(await contents(store, { since: -1e20, until: 1e20 })).toHaveLength(7);
    expect(await contents(store, { tags: ['x'], contextPath: '/proj/a', layer: 'application' })).toEqual(['a', 'b']);
    expect((await store.recall({ limit: 2 })).map((hit) => hit.content)).toEqual(['g', 'f']);
    expect(await store.recall({ limit: 1000 })).toHaveLength(7);
  });

  it('times: since is inclusive, until exclusive, to the millisecond', async () => {
    const store = await engine.open();
    const record = await store.remember({ content: 'timed' });
    const at = Date.parse(record.createdAt);
    expect(await contents(store, { since: at })).toEqual(['timed']);
    expect(await contents(store, { since: at + 1 })).toEqual([]);
    expect(await contents(store, { until: at })).toEqual([]);
    expect(await contents(store, { until: at + 1 })).toEqual(['timed']);
    expect(await contents(store, { since: new Date(at).toISOString(), until: at + 0.5 })).toEqual(['timed']);
  });

  it('counts each recall; the counts are exact after flush, and after close and reopen', async () => {
    const place = engine.place();
    let store = await place.open();
    const record = await store.remember({ content: 'counted' });
    expect((await store.recall({ query: 'counted' }))[0]?.recallCount).toBe(1);
    expect((await store.recall({ query: 'counted' }))[0]?.recallCount).toBe(2);
    expect((await store.get(record.id))?.recallCount).toBe(0);
    await store.flush();
    expect((await store.get(record.id))?.recallCount).toBe(2);
    expect((await store.stats()).pendingRecallCounts).toBe(0);
    await store.recall({ query: 'counted' });
    await store.close();
    store = await place.open();
    expect((await store.get(record.id))?.recallCount).toBe(3);
    expect((await store.stats()).recallCountTotal).toBe(3);
  });

  it('count: false reads without counting, and shows the counts this process has not written yet', async () => {
    const place = engine.place();
    let store = await place.open();
    const record = await store.remember({ content: 'looked at, not used' });
    expect((await store.recall({ query: 'looked', count: false }))[0]?.recallCount).toBe(0);
    expect((await store.recall({ query: 'looked' }))[0]?.recallCount).toBe(1);
    expect((await store.recall({ query: 'looked', count: false }))[0]?.recallCount).toBe(1);
    expect((await store.recall({ layer: 'application', count: false })).map((hit) => hit.recallCount)).toEqual([1]);
    expect((await store.stats()).pendingRecallCounts).toBe(1);
    await store.close();
    store = await place.open();
    expect((await store.get(record.id))?.recallCount).toBe(1);
    expect((await store.recall({ count: false }))[0]?.recallCount).toBe(1);
  });

  it('includes this recall in every returned count, also when the recall itself starts a flush', async () => {
    const store = await engine.open({ recallFlushPending: 3 });
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
    [{ count: 'no' }, 'count'],
  ])('refuses %j with StoreValidationError naming %s', async (query, field) => {
    const store = await engine.open();
    await expect(store.recall(query as never)).rejects.toMatchObject({ field, code: 'ERR_MEMHUB_VALIDATION', constructor: StoreValidationError });
  });
});
