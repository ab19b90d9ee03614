import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { afterEach, expect, it } from 'vitest';
import { newRecordId, openStore } from '../../src/index.js';
import { recallSelect } from '../../src/engine/postgres/postgres-recall.js';
import { textSearchConfiguration } from '../../src/engine/postgres/postgres-schema.js';
import type { PostgresTables } from '../../src/engine/postgres/postgres-tables.js';
import { validateRecallQuery } from '../../src/validate-recall.js';
import { adminQuery, describePostgres, dropSchema, freshSchemaName, postgres } from '../support/postgres.js';

const schemas: string[] = [];
afterEach(async () => {
  for (const schema of schemas.splice(0)) await dropSchema(schema);
});

describePostgres('recall by metadata on PostgreSQL', () => {
  it('is served by the metadata index (records_by_metadata), with the JSON types of the values kept apart', async () => {
    const schema = freshSchemaName();
    schemas.push(schema);
    const store = await openStore({ url: postgres.url, schema });
    try {
      const lines = Array.from({ length: 5_000 }, (_, index) =>
        JSON.stringify({ v: 1, id: newRecordId(), content: `note ${index}`, tags: [], contextPath: '/', layer: 'application', createdAt: new Date(1_700_000_000_000 + index).toISOString(), recallCount: 0, metadata: { source: `source-${index % 250}`, n: index % 3 }, key: null }),
      );
      expect((await store.import(lines.map((line) => `${line}\n`))).imported).toBe(5_000);
      const odd = await store.remember({ content: 'types differ', metadata: { source: 'source-7', n: '1', flag: true } });
      await store.remember({ content: 'a NUL in its metadata', metadata: { source: 'source-7', text: 'a\u0000b' } });
      await adminQuery(`ANALYZE "${schema}".records`);

      // The plan of the very query recall runs.
      const db = new Kysely<PostgresTables>({ dialect: new PostgresDialect({ pool: new pg.Pool({ max: 1 }) }) }).withSchema(schema);
      const compiled = recallSelect(db, validateRecallQuery({ metadata: { source: 'source-7' }, limit: 1000 }), textSearchConfiguration(schema)).compile();
      const plan = (await adminQuery<{ 'QUERY PLAN': string }>(`EXPLAIN ${compiled.sql}`, [...compiled.parameters])).map((row) => row['QUERY PLAN']).join('\n');
      expect(plan).toContain('records_by_metadata');
      await db.destroy();

      expect((await store.recall({ metadata: { source: 'source-7' }, count: false, limit: 1000 })).length).toBe(5_000 / 250 + 1);
      expect((await store.recall({ metadata: { source: 'source-7', n: 1 }, count: false, limit: 1000 })).every((hit) => hit.metadata['n'] === 1)).toBe(true);
      expect((await store.recall({ metadata: { n: '1' }, count: false })).map((hit) => hit.id)).toEqual([odd.id]);
      expect((await store.recall({ metadata: { flag: 1 }, count: false }))).toEqual([]);
      expect((await store.recall({ metadata: { flag: true }, count: false })).map((hit) => hit.id)).toEqual([odd.id]);
      expect((await store.verify()).problems).toEqual([]);
    } finally {
      await store.close();
    }
  });
});
