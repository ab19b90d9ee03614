import { expect, it } from 'vitest';
import { describeEachEngine } from '../support/engines.js';

describeEachEngine('verify and repair', (engine) => {
  it('a store with records, forgotten ones and archived ones verifies clean, and repair keeps it so', async () => {
    const store = await engine.open();
    const written = await store.rememberMany(Array.from({ length: 20 }, (_, index) => ({ content: `fine ${index}`, tags: ['x', `y${index}`] })));
    await store.forget(written[4]!.id);
    await store.archive({ ids: [written[5]!.id] });
    const report = await store.verify();
    expect(report).toMatchObject({ ok: true, engine: engine.name, location: store.location, records: 19, problems: [] });
    // SQLite compares each layer's JSONL mirror with the database; PostgreSQL keeps no mirror.
    const layers = report.layers.map((layer) => [layer.layer, layer.records, layer.mirrored]);
    expect(layers).toEqual(engine.name === 'sqlite' ? [['application', 18, 18], ['archive', 1, 1]] : []);
    const repaired = await store.repair();
    expect(repaired.actions.length).toBeGreaterThan(0);
    expect(repaired.after).toMatchObject({ ok: true, problems: [] });
    expect((await store.recall({ tags: ['y7'] })).map((hit) => hit.id)).toEqual([written[7]!.id]);
    expect((await store.remember({ content: 'after repair' })).seq).toBeGreaterThan(written[19]!.seq);
  });
});
