import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, StoreValidationError, type Store } from '../src/index.js';

let dir: string;
let store: Store;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'memhub-store-forget-'));
  store = await openStore({ dir });
});

afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('forget', () => {
  it('deletes the record, its tags and its words, and says whether it existed', async () => {
    const kept = await store.remember({ content: 'keep this fact', tags: ['t'] });
    const gone = await store.remember({ content: 'forget this fact', tags: ['t'] });
    expect(await store.forget(gone.id)).toBe(true);
    expect(await store.forget(gone.id)).toBe(false);
    expect(await store.get(gone.id)).toBeNull();
    expect((await store.recall({ query: 'fact' })).map((hit) => hit.id)).toEqual([kept.id]);
    expect((await store.recall({ tags: ['t'] })).map((hit) => hit.id)).toEqual([kept.id]);
  });

  it('keeps a forgotten record gone after a reopen, and never reuses its seq', async () => {
    const first = await store.remember({ content: 'one' });
    const second = await store.remember({ content: 'two' });
    await store.forget(second.id);
    await store.close();
    store = await openStore({ dir });
    const third = await store.remember({ content: 'three' });
    expect(third.seq).toBeGreaterThan(second.seq);
    expect((await store.stats()).records).toBe(2);
    expect(await store.get(first.id)).not.toBeNull();
  });

  it('refuses an id that is not a non-empty string', async () => {
    await expect(store.forget('' as string)).rejects.toMatchObject({ field: 'id', constructor: StoreValidationError });
  });
});

describe('archive moves records from application to archive', () => {
  it('by ids', async () => {
    const [a, b, c] = await store.rememberMany([{ content: 'a' }, { content: 'b' }, { content: 'c', layer: 'notes' }]);
    expect(await store.archive({ ids: [a!.id, c!.id, 'no-such-id'] })).toBe(1);
    expect((await store.get(a!.id))?.layer).toBe('archive');
    expect((await store.get(b!.id))?.layer).toBe('application');
    expect((await store.get(c!.id))?.layer).toBe('notes');
    expect((await store.stats()).recordsByLayer).toEqual({ application: 1, archive: 1, notes: 1 });
  });

  it('by age', async () => {
    const old = await store.remember({ content: 'old' });
    await new Promise((resolve) => setTimeout(resolve, 15));
    const cutoff = new Date();
    const fresh = await store.remember({ content: 'fresh' });
    expect(await store.archive({ olderThan: cutoff })).toBe(1);
    expect((await store.get(old.id))?.layer).toBe('archive');
    expect((await store.get(fresh.id))?.layer).toBe('application');
  });

  it('by recall count, as counted once flushed', async () => {
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
    await expect(store.archive(selector as never)).rejects.toMatchObject({ field, constructor: StoreValidationError });
  });
});
