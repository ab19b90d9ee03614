import { afterEach, beforeEach, expect, it } from 'vitest';
import { openStore } from '../../src/index.js';
import { startStoreFixture, type FixtureProcess } from '../support/processes.js';
import { adminQuery, describePostgres, dropSchema, freshSchemaName, postgres } from '../support/postgres.js';

let schema: string;
const children: FixtureProcess[] = [];

describePostgres('seq order on PostgreSQL', () => {
  beforeEach(() => {
    schema = freshSchemaName();
  });

  afterEach(async () => {
    for (const child of children.splice(0)) child.kill();
    await dropSchema(schema);
  });

  it('a reader that tails by seq > cursor while 4 processes write on their own connections never skips a record', async () => {
    const store = await openStore({ url: postgres.url, schema });
    await store.close();
    const target = JSON.stringify({ url: postgres.url, schema });
    const writers = Array.from({ length: 4 }, (_, index) => {
      const child = startStoreFixture('store-writer.ts', [target, '400', `tail${index}`, '8']);
      children.push(child);
      return child;
    });
    await Promise.all(writers.map((child) => child.waitForLine('ready')));

    // The tail: what a consumer of the store's changes does, as fast as it can, outside memhub.
    const seen: { seq: number; id: string }[] = [];
    let cursor = 0;
    let polls = 0;
    const poll = async () => {
      const rows = await adminQuery<{ seq: number; id: string }>(`SELECT seq::int, id FROM "${schema}".records WHERE seq > $1 ORDER BY seq`, [cursor]);
      polls += 1;
      for (const row of rows) seen.push(row);
      cursor = rows.at(-1)?.seq ?? cursor;
    };
    let writing = true;
    for (const child of writers) child.send('go');
    const finished = Promise.all(writers.map((child) => Promise.race([child.waitForLine('done', 120_000), child.waitForLine('error', 120_000)]))).finally(() => {
      writing = false;
    });
    while (writing) await poll();
    expect(await finished).toEqual(['done 400', 'done 400', 'done 400', 'done 400']);
    await poll();

    const all = await adminQuery<{ seq: number; id: string }>(`SELECT seq::int, id FROM "${schema}".records ORDER BY seq`);
    expect(all).toHaveLength(1600);
    expect(polls, 'the tail should have read while the writers wrote').toBeGreaterThan(10);
    // Every record, once, in seq order: none committed behind the cursor after the tail had passed it.
    expect(seen).toEqual(all);
  });
});
