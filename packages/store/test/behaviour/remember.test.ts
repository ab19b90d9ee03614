import { expect, it } from 'vitest';
import { describeEachEngine } from '../support/engines.js';
import { asStored } from '../support/stored-record.js';

describeEachEngine('remember, rememberMany, get', (engine) => {
  it('stores a record and gives it back whole: id, seq, content, tags, contextPath, layer, time, count, metadata, key', async () => {
    const store = await engine.open();
    const before = Date.now();
    const record = await store.remember({
      content: 'The deploy needs Node 20',
      tags: ['deploy', 'node'],
      contextPath: '/projects/api',
      layer: 'notes',
      metadata: { source: 'runbook', nested: { list: [1, 'two', null, true] } },
      key: 'runbook-42',
    });
    expect(record).toMatchObject({
      created: true,
      seq: 1,
      content: 'The deploy needs Node 20',
      tags: ['deploy', 'node'],
      contextPath: '/projects/api',
      layer: 'notes',
      recallCount: 0,
      metadata: { source: 'runbook', nested: { list: [1, 'two', null, true] } },
      key: 'runbook-42',
    });
    expect(record.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(Date.parse(record.createdAt)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(record.createdAt)).toBeLessThanOrEqual(Date.now());
    const { created, ...stored } = record;
    expect(await store.get(record.id)).toEqual(stored);
    expect(await store.get('no-such-id')).toBeNull();
  });

  it('keeps any Unicode content exactly, NUL characters and noncharacters included', async () => {
    const store = await engine.open();
    const contents = ['line one\nline two \u2028 "quoted" \u0000 nul', 'ends with NUL\u0000', '\uFFFF\uFFFE\u0000\uFFFE\uFFFF', 'emoji 🧠 and accents café'];
    const written = await store.rememberMany(contents.map((content, index) => ({ content, key: `k\u0000${index}\uFFFF` })));
    for (const [index, record] of written.entries()) {
      expect(await store.get(record.id)).toMatchObject({ content: contents[index], key: `k\u0000${index}\uFFFF` });
    }
    expect(await store.remember({ content: 'another', key: 'k\u00001\uFFFF' })).toEqual({ ...written[1], created: false });
  });

  it('stores a content at the size limit made of distinct words, and finds it by its first words', async () => {
    const store = await engine.open();
    let content = '';
    for (let index = 0; content.length < 1024 * 1024 - 20; index += 1) content += `w${index.toString(36)} `;
    const record = await store.remember({ content: content.trimEnd() });
    expect((await store.get(record.id))?.content).toBe(content.trimEnd());
    expect((await store.recall({ query: 'w0 w1z' })).map((hit) => hit.id)).toEqual([record.id]);
  });

  it('gives seqs that increase with every write, and never reuses one after a forget and a reopen', async () => {
    const place = engine.place();
    let store = await place.open();
    const first = await store.remember({ content: 'one' });
    const second = await store.remember({ content: 'two' });
    expect(second.seq).toBeGreaterThan(first.seq);
    await store.forget(second.id);
    await store.close();
    store = await place.open();
    const third = await store.remember({ content: 'three' });
    expect(third.seq).toBeGreaterThan(second.seq);
    expect((await store.stats()).records).toBe(2);
  });

  it('an idempotency key already in the store gives the first record, says created: false and writes nothing, also twice in one batch', async () => {
    const store = await engine.open();
    const first = await store.remember({ content: 'first', key: 'once' });
    expect(first.created).toBe(true);
    expect(await store.remember({ content: 'second', key: 'once' })).toEqual({ ...first, created: false });
    const [a, b, c] = await store.rememberMany([{ content: 'x', key: 'twice' }, { content: 'y', key: 'twice' }, { content: 'z', key: 'once' }]);
    expect(a?.created).toBe(true);
    expect(b).toEqual({ ...a, created: false });
    expect(c).toEqual({ ...first, created: false });
    const together = await Promise.all([store.remember({ content: 'p', key: 'race' }), store.remember({ content: 'q', key: 'race' })]);
    expect(together.map((record) => record.created)).toEqual([true, false]);
    expect(together[1]).toEqual({ ...together[0], created: false });
    expect((await store.stats()).records).toBe(3);
  });

  it('gathers 200 concurrent remembers into shared transactions and gives each caller its own record', async () => {
    const store = await engine.open();
    const records = await Promise.all(Array.from({ length: 200 }, (_, index) => store.remember({ content: `note ${index}`, tags: ['Group', ' group ', 'x'] })));
    expect(records.map((record) => record.content)).toEqual(Array.from({ length: 200 }, (_, index) => `note ${index}`));
    expect(new Set(records.map((record) => record.seq)).size).toBe(200);
    expect(records[0]?.tags).toEqual(['Group', 'group', 'x']);
    expect(await store.get(records[17]!.id)).toEqual(asStored(records[17]!));
    expect((await store.stats()).records).toBe(200);
  });

  it('rememberMany writes thousands in one call, in order', async () => {
    const store = await engine.open();
    const records = await store.rememberMany(Array.from({ length: 2500 }, (_, index) => ({ content: `bulk ${index}`, tags: [`t${index % 3}`] })));
    expect(records.map((record) => record.seq)).toEqual(records.map((_, index) => records[0]!.seq + index));
    expect((await store.stats()).records).toBe(2500);
    expect(await store.get(records[2499]!.id)).toEqual(asStored(records[2499]!));
  });

  it('reports what it holds in stats(), per layer, with the engine and a location', async () => {
    const store = await engine.open();
    await store.rememberMany([{ content: 'a' }, { content: 'b', layer: 'archive' }, { content: 'c', layer: 'notes' }, { content: 'd' }]);
    const stats = await store.stats();
    expect(stats).toMatchObject({ engine: engine.name, records: 4, recordsByLayer: { application: 2, archive: 1, notes: 1 }, recallCountTotal: 0, pendingRecallCounts: 0 });
    expect(stats.location).toBe(store.location);
    expect(stats.databaseBytes).toBeGreaterThan(0);
  });

  it('refuses every call after close() with StoreClosedError', async () => {
    const store = await engine.open();
    await store.close();
    await expect(store.remember({ content: 'late' })).rejects.toMatchObject({ code: 'ERR_MEMHUB_CLOSED' });
    await expect(store.get('x')).rejects.toMatchObject({ code: 'ERR_MEMHUB_CLOSED' });
    await store.close();
  });
});
