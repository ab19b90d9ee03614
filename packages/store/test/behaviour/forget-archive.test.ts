import { expect, it } from 'vitest';
import { StoreValidationError } from '../../src/index.js';
import { describeEachEngine } from '../support/engines.js';

describeEachEngine('forget and archive', (engine) => {
  it('forget deletes the record, its tags and its words, and says whether it existed', async () => {
    const store = await engine.open();
    const kept = await store.remember({ content: 'keep this fact', tags: ['t'] });
    const gone = await store.remember({ content: 'forget this fact', tags: ['t'] });
    expect(await store.forget(gone.id)).toBe(true);
    expect(await store.forget(gone.id)).toBe(false);
    expect(await store.forget('never-existed')).toBe(false);
    expect(await store.forget('nul\u0000id')).toBe(false);
    expect(await store.get(gone.id)).toBeNull();
    expect((await store.recall({ query: 'fact' })).map((hit) => hit.id)).toEqual([kept.id]);
    expect((await store.recall({ tags: ['t'] })).map((hit) => hit.id)).toEqual([kept.id]);
  });

  it('archive by ids moves application records only', async () => {
    const store = await engine.open();
    const [a, b, c] = await store.rememberMany([{ content: 'a' }, { content: 'b' }, { content: 'c', layer: 'notes' }]);
    expect(await store.archive({ ids: [a!.id, c!.id, 'no-such-id'] })).toBe(1);
    expect(await store.archive({ ids: [a!.id] })).toBe(0);
    expect(await store.archive({ ids: [] })).toBe(0);
    expect((await store.get(a!.id))?.layer).toBe('archive');
    expect((await store.get(b!.id))?.layer).toBe('application');
    expect((await store.get(c!.id))?.layer).toBe('notes');
    expect((await store.stats()).recordsByLayer).toEqual({ application: 1, archive: 1, notes: 1 });
  });

  it('restore moves archived records back to application by id, and only those', async () => {
    const store = await engine.open();
    const [first, second, note] = await store.rememberMany([{ content: 'first archived' }, { content: 'second archived' }, { content: 'a note', layer: 'notes' }]);
    expect(await store.archive({ ids: [first!.id, second!.id] })).toBe(2);
    expect(await store.restore([first!.id, first!.id, note!.id, 'never-existed'])).toBe(1);
    expect((await store.get(first!.id))?.layer).toBe('application');
    expect((await store.get(second!.id))?.layer).toBe('archive');
    expect((await store.get(note!.id))?.layer).toBe('notes');
    expect(await store.restore([first!.id])).toBe(0);
    expect(await store.restore([])).toBe(0);
    expect((await store.stats()).recordsByLayer).toEqual({ application: 1, archive: 1, notes: 1 });
    // Found where it is now, with its words and tags.
    expect((await store.recall({ query: 'first', layer: 'application', count: false })).map((record) => record.id)).toEqual([first!.id]);
    expect((await store.verify()).problems).toEqual([]);
    await expect(store.restore('not-an-array' as unknown as string[])).rejects.toMatchObject({ field: 'ids' });
    await expect(store.restore([''])).rejects.toMatchObject({ field: 'ids[0]' });
  });

  it('archive by age', async () => {
    const store = await engine.open();
    const old = await store.remember({ content: 'old' });
    await new Promise((resolve) => setTimeout(resolve, 15));
    const cutoff = new Date();
    const fresh = await store.remember({ content: 'fresh' });
    expect(await store.archive({ olderThan: cutoff })).toBe(1);
    expect((await store.get(old.id))?.layer).toBe('archive');
    expect((await store.get(fresh.id))?.layer).toBe('application');
    expect(await store.archive({ olderThan: 1e20 })).toBe(1);
  });

  it('archive by recall count, as counted once flushed', async () => {
    const store = await engine.open();
    const popular = await store.remember({ content: 'popular' });
    const ignored = await store.remember({ content: 'ignored' });
    await store.recall({ query: 'popular' });
    await store.recall({ query: 'popular' });
    await store.flush();
    expect(await store.archive({ recallCountBelow: 2 })).toBe(1);
    expect((await store.get(popular.id))?.layer).toBe('application');
    expect((await store.get(ignored.id))?.layer).toBe('archive');
  });

  it.each([
    [{}, 'selector'],
    [{ ids: ['a'], olderThan: 1 }, 'selector'],
    [{ ids: 'a' }, 'ids'],
    [{ ids: [''] }, 'ids[0]'],
    [{ olderThan: 'last week' }, 'olderThan'],
    [{ recallCountBelow: -1 }, 'recallCountBelow'],
    [{ layer: 'x' }, 'layer'],
  ])('refuses the selector %j naming %s', async (selector, field) => {
    const store = await engine.open();
    await expect(store.archive(selector as never)).rejects.toMatchObject({ field, constructor: StoreValidationError });
  });
});
