import { expect, it } from 'vitest';
import { StoreConflictError, StoreNotFoundError, StoreValidationError } from '../../src/index.js';
import { describeEachEngine } from '../support/engines.js';

describeEachEngine('update and history', (engine) => {
  it('writes a new version under the same id and a new seq; history lists every version, oldest first', async () => {
    const store = await engine.open();
    const first = await store.remember({ content: 'deploys run on fridays', tags: ['ops'], contextPath: '/team', metadata: { source: 'chat' }, key: 'deploy-day' });
    const other = await store.remember({ content: 'an unrelated note' });

    const second = await store.update(first.id, { content: 'deploys run on mondays' });
    expect(second).toMatchObject({ id: first.id, content: 'deploys run on mondays', tags: ['ops'], contextPath: '/team', metadata: { source: 'chat' }, key: 'deploy-day' });
    expect(second.seq).toBeGreaterThan(other.seq);
    expect(second.createdAt).toBe(first.createdAt);
    expect(Date.parse(second.updatedAt as string)).toBeGreaterThanOrEqual(Date.parse(first.createdAt));
    expect(first).not.toHaveProperty('updatedAt');

    // By key, several fields at once; the key and id stay.
    const third = await store.update('deploy-day', { tags: ['ops', 'schedule'], metadata: { source: 'runbook' }, contextPath: '/team/ops' });
    expect(third).toMatchObject({ id: first.id, content: 'deploys run on mondays', tags: ['ops', 'schedule'], contextPath: '/team/ops', metadata: { source: 'runbook' } });
    expect(await store.get(first.id)).toEqual(third);

    const history = await store.history(first.id);
    expect(history.map((version) => version.seq)).toEqual([first.seq, second.seq, third.seq]);
    expect(history.map((version) => version.content)).toEqual(['deploys run on fridays', 'deploys run on mondays', 'deploys run on mondays']);
    expect(history[0]).toMatchObject({ id: first.id, at: first.createdAt, tags: ['ops'], contextPath: '/team', layer: 'application', metadata: { source: 'chat' } });
    expect(history[2]).toMatchObject({ at: third.updatedAt, tags: ['ops', 'schedule'], contextPath: '/team/ops', metadata: { source: 'runbook' } });
    expect(await store.history('deploy-day')).toEqual(history);
    expect(await store.history(other.id)).toEqual([expect.objectContaining({ seq: other.seq, content: 'an unrelated note' })]);
    expect(await store.history('no-such-record')).toEqual([]);

    // Recall finds the new words and not the old ones; the record is found once.
    expect((await store.recall({ query: 'mondays', count: false })).map((hit) => hit.id)).toEqual([first.id]);
    expect(await store.recall({ query: 'fridays', count: false })).toEqual([]);
    expect((await store.recall({ tags: ['schedule'], count: false })).map((hit) => hit.id)).toEqual([first.id]);
    expect((await store.recall({ count: false, limit: 10 })).map((hit) => hit.id).sort()).toEqual([first.id, other.id].sort());

    // An update may move a record to another layer.
    const archived = await store.update(first.id, { layer: 'archive' });
    expect(archived.layer).toBe('archive');
    expect((await store.stats()).recordsByLayer).toMatchObject({ archive: 1, application: 1 });

    // Forgetting a record forgets its history.
    expect(await store.forget(first.id)).toBe(true);
    expect(await store.history(first.id)).toEqual([]);
    await expect(store.update(first.id, { content: 'back?' })).rejects.toBeInstanceOf(StoreNotFoundError);
    expect((await store.verify()).ok).toBe(true);
  });

  it('ifSeq is a compare-and-set: a stale seq is a StoreConflictError and writes nothing', async () => {
    const store = await engine.open();
    const record = await store.remember({ content: 'counter is 1' });
    const updated = await store.update(record.id, { content: 'counter is 2', ifSeq: record.seq });
    const conflict = await store.update(record.id, { content: 'counter is 2 again', ifSeq: record.seq }).catch((error: unknown) => error);
    expect(conflict).toBeInstanceOf(StoreConflictError);
    expect(conflict).toMatchObject({ code: 'ERR_MEMHUB_CONFLICT', id: record.id, expectedSeq: record.seq, currentSeq: updated.seq });
    expect((await store.get(record.id))?.content).toBe('counter is 2');
    expect((await store.history(record.id)).length).toBe(2);
    expect((await store.update(record.id, { content: 'counter is 3', ifSeq: updated.seq })).content).toBe('counter is 3');
  });

  it('refuses bad input before anything is written, naming the field', async () => {
    const store = await engine.open();
    const record = await store.remember({ content: 'a note' });
    const cases: [unknown, unknown, string][] = [
      ['', { content: 'x' }, 'idOrKey'],
      [42, { content: 'x' }, 'idOrKey'],
      [record.id, {}, 'changes'],
      [record.id, null, 'changes'],
      [record.id, { content: '  ' }, 'content'],
      [record.id, { tags: 'ops' }, 'tags'],
      [record.id, { contextPath: 'relative' }, 'contextPath'],
      [record.id, { layer: '../x' }, 'layer'],
      [record.id, { key: 'other' }, 'key'],
      [record.id, { colour: 'red' }, 'colour'],
      [record.id, { content: 'x', ifSeq: 0 }, 'ifSeq'],
      [record.id, { content: 'x', ifSeq: '3' }, 'ifSeq'],
    ];
    for (const [target, changes, field] of cases) {
      const error = await store.update(target as string, changes as never).catch((caught: unknown) => caught);
      expect(error, JSON.stringify(changes)).toBeInstanceOf(StoreValidationError);
      expect((error as StoreValidationError).field).toBe(field);
    }
    expect(await store.history(record.id)).toHaveLength(1);
    expect((await store.get(record.id))?.seq).toBe(record.seq);
  });

  it('a scoped store updates only its own records, and keeps them in its scope', async () => {
    const place = engine.place();
    const alice = await place.open({ scope: '/agents/alice' });
    const bob = await place.open({ scope: '/agents/bob' });
    const admin = await place.open();
    const note = await alice.remember({ content: 'alice note', contextPath: '/a', key: 'mine' });
    const bobs = await bob.remember({ content: 'bob note', key: 'mine' });

    await expect(alice.update(bobs.id, { content: 'hijacked' })).rejects.toBeInstanceOf(StoreNotFoundError);
    const moved = await alice.update('mine', { contextPath: '/b' });
    expect(moved).toMatchObject({ id: note.id, contextPath: '/b', key: 'mine' });
    expect((await admin.get(note.id))?.contextPath).toBe('/agents/alice/b');
    expect((await alice.history('mine')).map((version) => version.contextPath)).toEqual(['/a', '/b']);
    expect(await bob.history(note.id)).toEqual([]);
    expect((await bob.get(bobs.id))?.content).toBe('bob note');

    // Moved out of alice's scope by someone who may: alice can no longer update or forget it.
    await admin.update(note.id, { contextPath: '/elsewhere' });
    await expect(alice.update(note.id, { content: 'x' })).rejects.toBeInstanceOf(StoreNotFoundError);
    expect(await alice.forget(note.id)).toBe(false);
    expect(await admin.get(note.id)).not.toBeNull();
  });
});
