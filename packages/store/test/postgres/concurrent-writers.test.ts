import { afterEach, beforeEach, expect, it } from 'vitest';
import { startStoreFixture, type FixtureProcess } from '../support/processes.js';
import { adminQuery, describePostgres, dropSchema, freshSchemaName, postgres } from '../support/postgres.js';
import { CURRENT_SCHEMA_VERSION } from '../../src/engine/postgres/postgres-schema.js';

let schema: string;
const children: FixtureProcess[] = [];

/** Starts store-writer.ts processes on the test schema, releases them at the same moment, and waits until all are done. */
async function runWriters(writers: { count: number; label: string; inFlight?: number; keyMode?: string }[]): Promise<void> {
  const target = JSON.stringify({ url: postgres.url, schema });
  const started = writers.map(({ count, label, inFlight = 1, keyMode = '' }) => {
    const child = startStoreFixture('store-writer.ts', [target, String(count), label, String(inFlight), keyMode]);
    children.push(child);
    return child;
  });
  await Promise.all(started.map((child) => child.waitForLine('ready')));
  for (const child of started) child.send('go');
  const results = await Promise.all(started.map((child) => Promise.race([child.waitForLine('done', 120_000), child.waitForLine('error', 120_000)])));
  expect(results, started.map((child) => child.stderr).join('\n')).toEqual(writers.map(({ count }) => `done ${count}`));
}

describePostgres('remember() from many processes at once on PostgreSQL', () => {
  beforeEach(() => {
    schema = freshSchemaName();
  });

  afterEach(async () => {
    for (const child of children.splice(0)) child.kill();
    await dropSchema(schema);
  });

  it('8 processes x 500 remembers: exactly 4000 records, distinct ids, seqs 1 to 4000 without a gap', async () => {
    await runWriters(Array.from({ length: 8 }, (_, index) => ({ count: 500, label: `w${index}`, inFlight: 4 })));
    expect(
      await adminQuery(`SELECT count(*)::int AS n, count(DISTINCT id)::int AS ids, count(DISTINCT seq)::int AS seqs, min(seq)::int AS first, max(seq)::int AS last FROM "${schema}".records`),
    ).toEqual([{ n: 4000, ids: 4000, seqs: 4000, first: 1, last: 4000 }]);
    const perWriter = await adminQuery<{ writer: string; n: number }>(
      `SELECT split_part(content, ' ', 1) AS writer, count(*)::int AS n FROM "${schema}".records GROUP BY writer ORDER BY writer`,
    );
    expect(perWriter).toEqual(Array.from({ length: 8 }, (_, index) => ({ writer: `w${index}`, n: 500 })));
    expect(await adminQuery(`SELECT last_seq::int FROM "${schema}".seq_counter`)).toEqual([{ last_seq: 4000 }]);
    expect(await adminQuery(`SELECT count(*)::int AS n FROM "${schema}".records WHERE cardinality(tags) <> 2`)).toEqual([{ n: 0 }]);
  });

  it('8 processes opening a brand-new schema at the same instant create it once, without error', async () => {
    await runWriters(Array.from({ length: 8 }, (_, index) => ({ count: 1, label: `opener${index}` })));
    expect(await adminQuery(`SELECT version FROM "${schema}".schema_version`)).toEqual([{ version: CURRENT_SCHEMA_VERSION }]);
    expect(await adminQuery(`SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = $1`, [schema])).toEqual([{ n: 1 }]);
    expect(
      await adminQuery(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`, [schema]),
    ).toEqual([{ table_name: 'record_versions' }, { table_name: 'records' }, { table_name: 'schema_version' }, { table_name: 'seq_counter' }]);
    expect(await adminQuery(`SELECT count(*)::int AS n FROM "${schema}".records`)).toEqual([{ n: 8 }]);
  });

  it('the same idempotency key from 4 processes at once gives one record', async () => {
    await runWriters(Array.from({ length: 4 }, (_, index) => ({ count: 5, label: `keyed${index}`, keyMode: 'shared-key' })));
    expect(await adminQuery(`SELECT count(*)::int AS n, count(*) FILTER (WHERE idempotency_key = 'the-one-key')::int AS keyed FROM "${schema}".records`)).toEqual([
      { n: 1, keyed: 1 },
    ]);
  });
});
