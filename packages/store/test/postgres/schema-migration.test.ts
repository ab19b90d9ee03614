import { afterEach, expect, it } from 'vitest';
import { openStore } from '../../src/index.js';
import { CURRENT_SCHEMA_VERSION, SCHEMA_MIGRATIONS } from '../../src/engine/postgres/postgres-schema.js';
import { adminQuery, describePostgres, dropSchema, freshSchemaName, postgres } from '../support/postgres.js';

const schemas: string[] = [];
afterEach(async () => {
  for (const schema of schemas.splice(0)) await dropSchema(schema);
});

describePostgres('a PostgreSQL store of schema version 1 opens in the current one', () => {
  it('its full-text vector is regenerated with English stems; records, seqs and keys untouched', async () => {
    const schema = freshSchemaName();
    schemas.push(schema);
    // The schema as the previous release made it, with three records it wrote.
    await adminQuery(`CREATE SCHEMA "${schema}"`);
    await adminQuery(SCHEMA_MIGRATIONS[0]!(schema));
    await adminQuery(`CREATE TABLE "${schema}".schema_version (version integer NOT NULL); INSERT INTO "${schema}".schema_version VALUES (1)`);
    const contents = ['Deploys go out on Tuesdays', 'lunch at noon', 'we deployed the api'];
    for (const [index, content] of contents.entries()) {
      await adminQuery(
        `INSERT INTO "${schema}".records (seq, id, layer, content, tags, context_path, metadata, idempotency_key, created_at, recall_count)
         VALUES ($1, $2, 'application', $3, ARRAY['ops'], '/', '{}', $4, $5, 0)`,
        [index + 1, `old-${index}`, content, `key-${index}`, 1_700_000_000_000 + index],
      );
    }
    await adminQuery(`UPDATE "${schema}".seq_counter SET last_seq = 3`);
    expect(await adminQuery(`SELECT count(*)::int AS n FROM "${schema}".records WHERE content_tsv @@ phraseto_tsquery('simple', 'deploy')`)).toEqual([{ n: 0 }]);

    const store = await openStore({ url: postgres.url, schema });
    try {
      expect(await adminQuery(`SELECT version FROM "${schema}".schema_version`)).toEqual([{ version: CURRENT_SCHEMA_VERSION }]);
      expect((await store.recall({ query: 'deploy', count: false })).map((record) => record.id).sort()).toEqual(['old-0', 'old-2']);
      expect((await store.remember({ content: 'x', key: 'key-1' })).created).toBe(false);
      const added = await store.remember({ content: 'redeploys are fine' });
      expect(added.seq).toBe(4);
      expect((await store.recall({ query: 'redeploy', count: false })).map((record) => record.id)).toEqual([added.id]);
      expect((await store.verify()).problems).toEqual([]);
    } finally {
      await store.close();
    }
  });
});
