import { afterEach, beforeEach, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/index.js';
import { adminQuery, describePostgres, dropSchema, freshSchemaName, postgres } from '../support/postgres.js';

let schema: string;
let store: Store;

describePostgres('verify and repair on PostgreSQL, after damage done from outside memhub', () => {
  beforeEach(async () => {
    schema = freshSchemaName();
    store = await openStore({ url: postgres.url, schema });
  });

  afterEach(async () => {
    await store.close();
    await dropSchema(schema);
  });

  it('a seq counter set back: verify says the next write would reuse a seq; repair moves it up, and writes go on', async () => {
    const written = await store.rememberMany(Array.from({ length: 5 }, (_, index) => ({ content: `fact ${index}` })));
    await adminQuery(`UPDATE "${schema}".seq_counter SET last_seq = 2`);
    const report = await store.verify();
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([{ kind: 'sequence', message: 'the seq counter is at 2, below the highest seq 5: the next write would reuse a seq' }]);
    const repaired = await store.repair();
    expect(repaired.actions).toContain('moved the seq counter up to the highest seq');
    expect(repaired.after).toMatchObject({ ok: true, problems: [] });
    expect((await store.remember({ content: 'after' })).seq).toBe(written[4]!.seq + 1);
  });

  it('a dropped full-text index and a broken tag list: both found, both repaired', async () => {
    const [first] = await store.rememberMany([{ content: 'alpha bravo', tags: ['x', 'y'] }, { content: 'charlie delta', tags: ['z'] }]);
    await adminQuery(`DROP INDEX "${schema}".records_by_words`);
    await adminQuery(`UPDATE "${schema}".records SET tags = ARRAY['x', 'x', NULL, ' ', 'y'] WHERE id = $1`, [first!.id]);
    const report = await store.verify();
    expect(report.ok).toBe(false);
    expect(report.problems.map((problem) => problem.kind).sort()).toEqual(['full-text-index', 'tags']);
    expect(report.problems.find((problem) => problem.kind === 'tags')?.message).toContain(first!.id);
    expect(report.problems.find((problem) => problem.kind === 'full-text-index')?.message).toBe('the index records_by_words (full-text recall) is missing');

    const repaired = await store.repair();
    expect(repaired.actions).toEqual(
      expect.arrayContaining(['created the missing index records_by_words', 'dropped empty and repeated tags of 1 record(s)']),
    );
    expect(repaired.after).toMatchObject({ ok: true, problems: [] });
    expect((await store.get(first!.id))?.tags).toEqual(['x', 'y']);
    expect((await store.recall({ query: 'delta' })).map((hit) => hit.content)).toEqual(['charlie delta']);
    expect(await adminQuery(`SELECT count(*)::int AS n FROM pg_indexes WHERE schemaname = $1 AND indexname = 'records_by_words'`, [schema])).toEqual([{ n: 1 }]);
  });

  it('a store whose schema is newer than this memhub is refused with StoreCompatibilityError', async () => {
    await adminQuery(`UPDATE "${schema}".schema_version SET version = 99`);
    await expect(openStore({ url: postgres.url, schema })).rejects.toMatchObject({ code: 'ERR_MEMHUB_COMPATIBILITY', message: expect.stringContaining('schema version 99') });
  });
});
