import { expect, it } from 'vitest';
import { StoreValidationError, type MemoryRecord } from '../../src/index.js';
import { describeEachEngine } from '../support/engines.js';
import { exportLine } from '../support/export-line.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Waits until `condition` holds, checking every 20 ms (a condition, not a time, is what the test asserts). */
async function eventually(condition: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('the condition did not hold in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const ids = (records: readonly MemoryRecord[]) => records.map((record) => record.id);

describeEachEngine('lifecycle: pinned, expiry, maintain()', (engine) => {
  it('pinned records come first in a recall without words, and recall({ pinned }) filters by it', async () => {
    const store = await engine.open();
    const pinned = await store.remember({ content: 'always relevant: the on-call rota', pinned: true });
    const [a, b] = await store.rememberMany([{ content: 'note a' }, { content: 'note b' }]);
    expect(pinned.pinned).toBe(true);
    expect(a).not.toHaveProperty('pinned');
    expect(ids(await store.recall({ count: false }))).toEqual([pinned.id, b!.id, a!.id]);
    expect(ids(await store.recall({ count: false, limit: 2 }))).toEqual([pinned.id, b!.id]);
    expect(ids(await store.recall({ count: false, pinned: true }))).toEqual([pinned.id]);
    expect(ids(await store.recall({ count: false, pinned: false }))).toEqual([b!.id, a!.id]);
    const unpinned = await store.update(pinned.id, { pinned: false });
    expect(unpinned).not.toHaveProperty('pinned');
    // Now by seq alone: the update gave it the newest seq.
    expect(ids(await store.recall({ count: false }))).toEqual([unpinned.id, b!.id, a!.id]);
    expect((await store.update(a!.id, { pinned: true })).pinned).toBe(true);
    expect(ids(await store.recall({ count: false }))[0]).toBe(a!.id);
    expect((await store.verify()).ok).toBe(true);
  });

  it('recall by words passes over the best text matches when they are expired or pinned, and returns the best of the rest', async () => {
    const store = await engine.open();
    // The strongest matches by text (short, the word three times), all expired by the time of the recall.
    await store.rememberMany(Array.from({ length: 120 }, (_, index) => ({ content: `walrus walrus walrus ${index}`, ttl: 1 })));
    const pinned = await store.rememberMany(
      Array.from({ length: 3 }, (_, index) => ({ content: `the rota of the walrus keepers, with a long list of other duties besides ${index}`, pinned: true })),
    );
    const weaker = await store.rememberMany(
      Array.from({ length: 30 }, (_, index) => ({ content: `a note that names a walrus once among many other words ${index}`, contextPath: index < 10 ? '/zoo/north' : '/zoo/south' })),
    );
    await new Promise((resolve) => setTimeout(resolve, 10));
    const weakerIds = new Set(ids(weaker));
    const top = await store.recall({ query: 'walrus', count: false, limit: 8 });
    expect(ids(top.slice(0, 3)).sort()).toEqual(ids(pinned).sort());
    expect(top).toHaveLength(8);
    expect(top.slice(3).every((record) => weakerIds.has(record.id))).toBe(true);
    expect(new Set(ids(await store.recall({ query: 'walrus', count: false, limit: 100 })))).toEqual(new Set([...ids(pinned), ...ids(weaker)]));
    expect(new Set(ids(await store.recall({ query: 'walrus', count: false, limit: 100, pinned: false })))).toEqual(weakerIds);
    expect(ids(await store.recall({ query: 'walrus', count: false, limit: 100, pinned: true })).sort()).toEqual(ids(pinned).sort());
    // Under a contextPath: every match is filtered with its record.
    expect(new Set(ids(await store.recall({ query: 'walrus', count: false, limit: 100, contextPath: '/zoo/north' })))).toEqual(new Set(ids(weaker.slice(0, 10))));
  });

  it('an expired record is not recalled (get still reads it); update clears or sets an expiry', async () => {
    const store = await engine.open();
    const before = Date.now();
    const soon = await store.remember({ content: 'a temporary walrus note', ttl: 1 });
    const after = Date.now();
    const later = await store.remember({ content: 'a lasting walrus note', expiresAt: new Date(Date.now() + DAY_MS) });
    const never = await store.remember({ content: 'a permanent walrus note', tags: ['keep'] });
    // The ttl counts from the call (its validation), not from the commit.
    expect(Date.parse(soon.expiresAt as string)).toBeGreaterThanOrEqual(before + 1);
    expect(Date.parse(soon.expiresAt as string)).toBeLessThanOrEqual(after + 1);
    expect(never).not.toHaveProperty('expiresAt');
    await new Promise((resolve) => setTimeout(resolve, 10));
    const found = ids(await store.recall({ query: 'walrus', count: false }));
    expect(found.sort()).toEqual([later.id, never.id].sort());
    expect(ids(await store.recall({ count: false }))).not.toContain(soon.id);
    expect((await store.get(soon.id))?.expiresAt).toBe(soon.expiresAt);
    // Cleared: recalled again. Set in the past: gone from recall.
    const cleared = await store.update(soon.id, { expiresAt: null });
    expect(cleared).not.toHaveProperty('expiresAt');
    expect(ids(await store.recall({ query: 'temporary', count: false }))).toEqual([soon.id]);
    await store.update(never.id, { expiresAt: Date.now() - 1 });
    expect(await store.recall({ tags: ['keep'], count: false })).toEqual([]);
    expect((await store.verify()).ok).toBe(true);
  });

  it('maintain() archives expired records (or forgets them), and applies the archive policy to application records that are not pinned', async () => {
    const place = engine.place();
    const store = await place.open({ archivePolicy: { olderThan: '30d', recallCountBelow: 3 } });
    const expiring = await store.rememberMany(Array.from({ length: 3 }, (_, index) => ({ content: `expiring ${index}`, ttl: 1 })));
    const old = exportLine('old and never recalled', 90, 0);
    const oldButUsed = exportLine('old but recalled often', 90, 10);
    const oldPinned = exportLine('old, never recalled, pinned', 90, 0, { pinned: true });
    const oldOtherLayer = exportLine('old, in another layer', 90, 0, { layer: 'notes' });
    expect((await store.import([old, oldButUsed, oldPinned, oldOtherLayer].map((entry) => entry.text))).imported).toBe(4);
    const fresh = await store.remember({ content: 'new and never recalled' });
    await new Promise((resolve) => setTimeout(resolve, 10));

    const report = await store.maintain();
    expect(report).toMatchObject({ archived: 4, forgotten: 0 });
    expect(report.changes.filter((change) => change.reason === 'expired').map((change) => change.id).sort()).toEqual(ids(expiring).sort());
    expect(report.changes.filter((change) => change.reason === 'policy')).toEqual([
      { id: old.id, action: 'archive', reason: 'policy', detail: 'written more than 30d ago, recalled fewer than 3 times' },
    ]);
    expect(report.changes.find((change) => change.reason === 'expired')?.detail).toMatch(/^expired at \d{4}-/);
    for (const id of [...ids(expiring), old.id]) expect((await store.get(id))?.layer).toBe('archive');
    for (const id of [oldButUsed.id, oldPinned.id, fresh.id]) expect((await store.get(id))?.layer).toBe('application');
    expect((await store.get(oldOtherLayer.id))?.layer).toBe('notes');
    // Nothing left to do: a second run moves nothing.
    expect(await store.maintain()).toEqual({ archived: 0, forgotten: 0, changes: [] });

    // A policy given to the call; notRecalledSince counts from the last recall.
    // The old, much-recalled record would meet it by its age alone (never recalled since its import), but it is recalled now.
    expect(ids(await store.recall({ query: 'often' }))).toEqual([oldButUsed.id]);
    await store.flush();
    expect((await store.maintain({ policy: { notRecalledSince: '7d' } })).changes.map((change) => change.id)).toEqual([]);
    const forgetting = await store.remember({ content: 'expires and is forgotten', ttl: 1 });
    await new Promise((resolve) => setTimeout(resolve, 10));
    const forgot = await store.maintain({ expired: 'forget' });
    // Expired records in the archive are forgotten too with 'forget'.
    expect(forgot).toMatchObject({ forgotten: 4, archived: 0 });
    expect(forgot.changes.map((change) => change.id).sort()).toEqual([...ids(expiring), forgetting.id].sort());
    expect(await store.get(forgetting.id)).toBeNull();
    expect((await store.verify()).ok).toBe(true);
  });

  it('maintain() works in batches: 1,234 expired records are all archived, and counted exactly', async () => {
    const store = await engine.open();
    for (let start = 0; start < 1_234; start += 500) {
      await store.rememberMany(Array.from({ length: Math.min(500, 1_234 - start) }, (_, index) => ({ content: `bulk ${start + index}`, ttl: 1 })));
    }
    await store.remember({ content: 'stays' });
    await new Promise((resolve) => setTimeout(resolve, 10));
    const report = await store.maintain();
    expect(report.archived).toBe(1_234);
    expect(report.changes).toHaveLength(1_000);
    expect((await store.stats()).recordsByLayer).toEqual({ application: 1, archive: 1_234 });
    expect((await store.verify()).ok).toBe(true);
  });

  it('maintainEveryMs runs maintain() in the background; a scoped store maintains its scope only', async () => {
    const place = engine.place();
    const admin = await place.open();
    const outside = await admin.remember({ content: 'outside the scope', ttl: 1 });
    const alice = await place.open({ scope: '/agents/alice', maintainEveryMs: 30 });
    const inside = await alice.remember({ content: 'inside the scope', ttl: 1 });
    await eventually(async () => (await admin.get(inside.id))?.layer === 'archive');
    expect((await admin.get(outside.id))?.layer).toBe('application');
    await alice.close();
    expect((await admin.maintain()).changes.map((change) => change.id)).toEqual([outside.id]);
  });

  it('refuses bad lifecycle input, naming the field', async () => {
    const store = await engine.open();
    const record = await store.remember({ content: 'x' });
    const cases: [() => Promise<unknown>, string][] = [
      [() => store.remember({ content: 'x', pinned: 'yes' as never }), 'pinned'],
      [() => store.remember({ content: 'x', ttl: 0 }), 'ttl'],
      [() => store.remember({ content: 'x', ttl: 1.5 }), 'ttl'],
      [() => store.remember({ content: 'x', ttl: 10, expiresAt: Date.now() }), 'ttl'],
      [() => store.remember({ content: 'x', expiresAt: 'tomorrow' }), 'expiresAt'],
      [() => store.remember({ content: 'x', expiresAt: null as never }), 'expiresAt'],
      [() => store.rememberMany([{ content: 'ok' }, { content: 'x', ttl: -1 }]), 'items[1].ttl'],
      [() => store.update(record.id, { expiresAt: Number.NaN }), 'expiresAt'],
      [() => store.recall({ pinned: 1 as never }), 'pinned'],
      [() => store.maintain({ policy: {} }), 'policy'],
      [() => store.maintain({ policy: { olderThan: 'soon' } }), 'policy.olderThan'],
      [() => store.maintain({ policy: { recallCountBelow: 0 } }), 'policy.recallCountBelow'],
      [() => store.maintain({ policy: { age: 1 } as never }), 'policy.age'],
      [() => store.maintain({ expired: 'delete' as never }), 'expired'],
    ];
    for (const [call, field] of cases) {
      const error = await call().catch((caught: unknown) => caught);
      expect(error, field).toBeInstanceOf(StoreValidationError);
      expect((error as StoreValidationError).field).toBe(field);
    }
    await expect(engine.open({ archivePolicy: { olderThan: -1 } })).rejects.toMatchObject({ field: 'archivePolicy.olderThan' });
    await expect(engine.open({ maintainEveryMs: 0 })).rejects.toMatchObject({ field: 'maintainEveryMs' });
    expect((await store.stats()).records).toBe(1);
  });
});
