import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/index.js';
import { describePostgres, dropSchema, freshSchemaName, postgres } from '../support/postgres.js';

let dir: string;
let schema: string;
const stores: Store[] = [];

async function open(options: Parameters<typeof openStore>[0]): Promise<Store> {
  const store = await openStore(options);
  stores.push(store);
  return store;
}

async function exported(store: Store): Promise<string[]> {
  const lines: string[] = [];
  for await (const line of store.export()) lines.push(line);
  return lines;
}

/**
 * A line without its seq: seq is a record's place in the write order of the store that holds it,
 * so the receiving store gives each record its own (in the same order, without the gaps that
 * forgotten records left in the source). Every other byte of the line is the same.
 */
function withoutSeq(line: string): string {
  const without = line.replace(/^\{"v":1,("id":"[^"]+"),"seq":\d+,/, '{"v":1,$1,');
  expect(without).not.toBe(line);
  return without;
}

/** A SQLite store with every kind of record an export can hold. */
async function fillSqliteStore(store: Store): Promise<void> {
  const written = await store.rememberMany(
    Array.from({ length: 700 }, (_, index) => ({
      content: index % 50 === 0 ? `odd text ${index}: NUL \u0000, noncharacters \uFFFF\uFFFE, emoji 🧠, "quotes", \\ and\nnewlines` : `fact number ${index}`,
      tags: index % 3 === 0 ? [] : [`t${index % 5}`, 'shared', 'ünïcödé'],
      contextPath: `/proj/${index % 4}/sub`,
      layer: index % 7 === 0 ? 'notes' : 'application',
      metadata: index % 2 === 0 ? {} : { index, nested: { list: [1.5, 'two', null, false], text: 'a\u0000b' } },
      ...(index % 9 === 0 ? { key: `key-${index}\u0000` } : {}),
    })),
  );
  for (const record of written.filter((_, index) => index % 11 === 0)) await store.forget(record.id);
  await store.archive({ ids: written.filter((_, index) => index % 13 === 1).map((record) => record.id) });
  for (let round = 0; round < 3; round += 1) await store.recall({ query: 'fact number', limit: 50 + round * 20 });
  await store.import([
    `${JSON.stringify({ v: 1, id: 'from-an-old-export', content: 'very old', tags: [], contextPath: '/', layer: 'archive', createdAt: '1999-12-31T23:59:59.999Z', recallCount: 41, metadata: {}, key: null })}\n`,
  ]);
  await store.flush();
}

describePostgres('moving a store between engines', () => {
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'memhub-round-trip-'));
    schema = freshSchemaName();
  });

  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    rmSync(dir, { recursive: true, force: true });
    await dropSchema(schema);
  });

  it('SQLite -> export -> import into PostgreSQL -> export gives the same lines but seq; and back again', async () => {
    const sqlite = await open({ dir: join(dir, 'sqlite') });
    await fillSqliteStore(sqlite);
    const fromSqlite = await exported(sqlite);
    expect(fromSqlite.length).toBe(700 - 64 + 1);

    const server = await open({ url: postgres.url, schema });
    expect(await server.import(sqlite.export(), { batchSize: 128 })).toEqual({ imported: fromSqlite.length, skipped: 0, rejected: 0, rejections: [] });
    const fromPostgres = await exported(server);
    expect(fromPostgres.map(withoutSeq)).toEqual(fromSqlite.map(withoutSeq));
    const seqs = fromPostgres.map((line) => (JSON.parse(line) as { seq: number }).seq);
    expect(seqs).toEqual(seqs.map((_, index) => index + 1));

    // The records behave the same on the server: found by words, tags, path and key.
    expect((await server.recall({ query: 'noncharacters', limit: 100 })).length).toBe((await sqlite.recall({ query: 'noncharacters', limit: 100 })).length);
    expect((await server.recall({ tags: ['ünïcödé', 't2'], contextPath: '/proj/1', limit: 1000 })).map((hit) => hit.id).sort()).toEqual(
      (await sqlite.recall({ tags: ['ünïcödé', 't2'], contextPath: '/proj/1', limit: 1000 })).map((hit) => hit.id).sort(),
    );
    const keyed = JSON.parse(fromSqlite.find((line) => line.includes('"key":"key-9'))!) as { id: string; key: string };
    expect((await server.remember({ content: 'same key', key: keyed.key })).id).toBe(keyed.id);

    // Those recalls counted: the way back starts from the server's records as they are now.
    await server.flush();
    const fromPostgresNow = await exported(server);
    const back = await open({ dir: join(dir, 'back') });
    await back.import(server.export());
    expect((await exported(back)).map(withoutSeq)).toEqual(fromPostgresNow.map(withoutSeq));
  });
});
