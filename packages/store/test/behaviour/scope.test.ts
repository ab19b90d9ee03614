import { expect, it } from 'vitest';
import { StoreValidationError } from '../../src/index.js';
import { describeEachEngine } from '../support/engines.js';

describeEachEngine('scopes', (engine) => {
  it('a scoped store writes under its scope, sees only its scope, and paths and keys are its own', async () => {
    const place = engine.place();
    const alice = await place.open({ scope: '/agents/alice' });
    const bob = await place.open({ scope: '/agents/bob/' });
    const admin = await place.open();

    const aliceNote = await alice.remember({ content: 'alice deploys on fridays', tags: ['ops'], contextPath: '/projects/x', key: 'deploy-day' });
    const aliceRoot = await alice.remember({ content: 'alice likes tea' });
    const bobNote = await bob.remember({ content: 'bob deploys on mondays', tags: ['ops'], key: 'deploy-day' });
    const outside = await admin.remember({ content: 'a shared deploys runbook', tags: ['ops'], contextPath: '/shared' });

    // Paths and keys as the scope sees them; stored under the scope.
    expect(aliceNote).toMatchObject({ contextPath: '/projects/x', key: 'deploy-day', created: true });
    expect(aliceRoot.contextPath).toBe('/');
    expect(bobNote).toMatchObject({ contextPath: '/', key: 'deploy-day', created: true }); // the same key, another scope: a record of its own
    expect((await admin.get(aliceNote.id))?.contextPath).toBe('/agents/alice/projects/x');
    expect((await admin.get(aliceRoot.id))?.contextPath).toBe('/agents/alice');
    expect((await admin.get(bobNote.id))?.contextPath).toBe('/agents/bob');

    // A key is the scope's own: known in alice's scope, so nothing is written.
    const again = await alice.remember({ content: 'something else', key: 'deploy-day' });
    expect(again).toMatchObject({ id: aliceNote.id, created: false, key: 'deploy-day', contextPath: '/projects/x' });

    // Recall sees the scope only, and a contextPath filter is inside the scope.
    const byWords = (await alice.recall({ query: 'deploys', count: false })).map((hit) => hit.id);
    expect(byWords).toEqual([aliceNote.id]);
    expect((await alice.recall({ tags: ['ops'], count: false })).map((hit) => hit.id)).toEqual([aliceNote.id]);
    expect((await alice.recall({ contextPath: '/projects', count: false })).map((hit) => hit.id)).toEqual([aliceNote.id]);
    expect((await alice.recall({ count: false, limit: 100 })).map((hit) => hit.id).sort()).toEqual([aliceNote.id, aliceRoot.id].sort());
    expect((await bob.recall({ query: 'deploys', count: false })).map((hit) => hit.id)).toEqual([bobNote.id]);
    expect((await admin.recall({ query: 'deploys', count: false, limit: 10 })).map((hit) => hit.id).sort()).toEqual([aliceNote.id, bobNote.id, outside.id].sort());
    // A sibling whose name starts the same is not inside: /agents/alice is not /agents/alicette.
    const alicette = await place.open({ scope: '/agents/alicette' });
    await alicette.remember({ content: 'alicette deploys too' });
    expect((await alice.recall({ query: 'deploys', count: false })).map((hit) => hit.id)).toEqual([aliceNote.id]);

    // get, forget, archive and restore do not reach outside the scope.
    expect(await alice.get(bobNote.id)).toBeNull();
    expect(await alice.get(outside.id)).toBeNull();
    expect((await alice.get(aliceNote.id))?.contextPath).toBe('/projects/x');
    expect(await alice.forget(bobNote.id)).toBe(false);
    expect(await admin.get(bobNote.id)).not.toBeNull();
    expect(await alice.archive({ ids: [bobNote.id, outside.id, aliceRoot.id] })).toBe(1);
    expect((await admin.get(bobNote.id))?.layer).toBe('application');
    expect((await admin.get(aliceRoot.id))?.layer).toBe('archive');
    expect(await bob.restore([aliceRoot.id])).toBe(0);
    expect(await alice.restore([aliceRoot.id])).toBe(1);
    // By a criterion: only the scope's records move.
    expect(await alice.archive({ recallCountBelow: 1_000 })).toBe(2);
    expect((await admin.get(bobNote.id))?.layer).toBe('application');
    expect((await admin.get(outside.id))?.layer).toBe('application');
    expect(await bob.archive({ olderThan: Date.now() + 60_000 })).toBe(1);
    expect((await admin.get(outside.id))?.layer).toBe('application');
    expect(await alice.forget(aliceRoot.id)).toBe(true);
    expect(await admin.get(aliceRoot.id)).toBeNull();
  });

  it('a scope is a contextPath: checked, named in the error, before anything is opened', async () => {
    const place = engine.place();
    for (const scope of ['agents/alice', '', 42, '/a\u0000b', '/a\u001fb']) {
      await expect(place.open({ scope: scope as string })).rejects.toSatisfy((error: unknown) => error instanceof StoreValidationError && error.field === 'scope');
    }
    // '/' is no scope at all.
    const root = await place.open({ scope: '/' });
    const record = await root.remember({ content: 'anywhere', contextPath: '/x', key: 'k' });
    expect(record).toMatchObject({ contextPath: '/x', key: 'k' });
  });
});
