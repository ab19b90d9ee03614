import { expect, it } from 'vitest';
import { DEFAULT_RANKING, StoreValidationError } from '../../src/index.js';
import { describeEachEngine } from '../support/engines.js';
import { exportLine } from '../support/export-line.js';

describeEachEngine('recall ranking', (engine) => {
  it('orders by text relevance, recency and capped usage as the weights say, and explains each score', async () => {
    const store = await engine.open();
    // A fixed corpus: what each record has, and so where it must come.
    const relevant = exportLine('walrus walrus walrus: the walrus colony moved north', 200, 0); // best text, old, never recalled
    const popular = exportLine('a long note about many animals of the arctic sea, among them one walrus, seals and terns', 0, 100_000); // weak text, new, recalled a lot
    const fresh = exportLine('walrus sighting at the pier', 1, 0);
    const stale = exportLine('walrus sighting at the pier', 400, 0); // the same text, a year older
    const used = exportLine('walrus sighting at the dock', 1, 15); // the same age and text weight as fresh, recalled 15 times
    const unrelated = exportLine('the deploy runbook', 0, 50);
    const pinned = exportLine('a pinned note that mentions a walrus once, among many other words about the coast', 300, 0, { pinned: true }); // weak text, old: first all the same
    const expired = exportLine('walrus walrus walrus walrus', 0, 50, { expiresAt: new Date(Date.now() - 60_000).toISOString() }); // the best text, but expired
    const report = await store.import([relevant, popular, fresh, stale, used, unrelated, pinned, expired].map((entry) => entry.text));
    expect(report.imported).toBe(8);

    const hits = await store.recall({ query: 'walrus', explain: true, count: false, limit: 10 });
    const order = hits.map((hit) => hit.id);
    // A pinned record is first, whatever its text; an expired one never appears.
    expect(order[0]).toBe(pinned.id);
    expect(order).not.toContain(expired.id);
    // Relevance beats a popularity that is capped: 100,000 recalls count as usageCap.
    expect(order.indexOf(relevant.id)).toBeLessThan(order.indexOf(popular.id));
    // Same text, newer first; same text and age, more used first.
    expect(order.indexOf(fresh.id)).toBeLessThan(order.indexOf(stale.id));
    expect(order.indexOf(used.id)).toBeLessThan(order.indexOf(fresh.id));
    expect(order).not.toContain(unrelated.id);
    expect(order).toHaveLength(6);
    for (const hit of hits) {
      expect(hit.explain).toBeDefined();
      const parts = hit.explain!;
      expect(hit.score).toBeCloseTo(parts.text + parts.recency + parts.usage + parts.pin, 10);
      expect(parts.pin).toBe(hit.id === pinned.id ? DEFAULT_RANKING.pinWeight : 0);
      expect(parts.text).toBeGreaterThan(0);
      expect(parts.text).toBeLessThanOrEqual(DEFAULT_RANKING.textWeight);
      expect(parts.recency).toBeLessThanOrEqual(DEFAULT_RANKING.recencyWeight);
      expect(parts.usage).toBeLessThanOrEqual(DEFAULT_RANKING.usageWeight);
    }
    // Scores descend.
    expect(hits.map((hit) => hit.score)).toEqual([...hits.map((hit) => hit.score)].sort((a, b) => b - a));
    const byId = new Map(hits.map((hit) => [hit.id, hit.explain!]));
    expect(byId.get(popular.id)!.usage).toBeCloseTo(DEFAULT_RANKING.usageWeight, 10); // capped
    expect(byId.get(used.id)!.usage).toBeCloseTo((DEFAULT_RANKING.usageWeight * 15) / DEFAULT_RANKING.usageCap, 10);
    expect(byId.get(relevant.id)!.text).toBeCloseTo(DEFAULT_RANKING.textWeight, 10); // the best text match
    expect(byId.get(stale.id)!.recency).toBeLessThan(byId.get(fresh.id)!.recency / 8); // 400 days: past 13 half-lives of 30

    // A snippet with the matched words marked, in every form the search matched.
    expect(hits.find((hit) => hit.id === relevant.id)?.snippet).toBe('«walrus» «walrus» «walrus»: the «walrus» colony moved north');
    expect((await store.recall({ query: 'sightings pier*', count: false, limit: 1 }))[0]?.snippet).toMatch(/«sighting» at the «pier»/);

    // Without explain, a score and no parts.
    const plain = await store.recall({ query: 'walrus', count: false, limit: 1 });
    expect(plain[0]!.score).toBeGreaterThan(0);
    expect(plain[0]).not.toHaveProperty('explain');
    // Without words, the pinned first, then the last written first (by seq: these were imported in this order).
    const newest = await store.recall({ count: false, limit: 3 });
    expect(newest.map((hit) => hit.id)).toEqual([pinned.id, unrelated.id, used.id]);
    expect(newest[0]).not.toHaveProperty('snippet');
  });

  it('the weights are options: with text and recency weighed at 0, the most used comes first', async () => {
    const place = engine.place();
    const seed = await place.open();
    const quiet = exportLine('otter notes', 0, 0);
    const busy = exportLine('otter otter otter notes', 30, 9);
    await seed.import([quiet.text, busy.text]);
    const byUse = await place.open({ ranking: { textWeight: 0, recencyWeight: 0, usageWeight: 1, usageCap: 10 } });
    const hits = await byUse.recall({ query: 'otter', explain: true, count: false });
    expect(hits.map((hit) => hit.id)).toEqual([busy.id, quiet.id]);
    expect(hits[0]!.score).toBeCloseTo(0.9, 10);
    await expect(place.open({ ranking: { recencyHalfLifeDays: 0 } })).rejects.toSatisfy(
      (error: unknown) => error instanceof StoreValidationError && error.field === 'ranking.recencyHalfLifeDays',
    );
    await expect(place.open({ ranking: { textWieght: 1 } as never })).rejects.toSatisfy((error: unknown) => error instanceof StoreValidationError && error.field === 'ranking.textWieght');
    await expect(byUse.recall({ explain: 'yes' as never })).rejects.toSatisfy((error: unknown) => error instanceof StoreValidationError && error.field === 'explain');
  });
});
