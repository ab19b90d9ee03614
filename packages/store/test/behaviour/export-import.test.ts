import { expect, it } from 'vitest';
import type { MemoryRecord, Store } from '../../src/index.js';
import { describeEachEngine } from '../support/engines.js';
import { asStored } from '../support/stored-record.js';

async function collect(lines: AsyncIterable<string>): Promise<string[]> {
  const all: string[] = [];
  for await (const line of lines) all.push(line);
  return all;
}

/** Everything of a record but its seq, which belongs to the store that holds it. */
function withoutSeq({ seq: _seq, ...rest }: MemoryRecord): Omit<MemoryRecord, 'seq'> {
  return rest;
}

async function allRecords(store: Store): Promise<MemoryRecord[]> {
  return (await collect(store.export())).map((line) => {
    const { v: _v, ...record } = JSON.parse(line) as MemoryRecord & { v: number };
    return record;
  });
}

describeEachEngine('export and import', (engine) => {
  it('export writes one NDJSON line a record, in seq order, each ending with \\n', async () => {
    const source = await engine.open();
    const written = await source.rememberMany([
      { content: 'first', tags: ['a'], metadata: { nested: { list: [1, 'two', null] } } },
      { content: 'line one\nline two \u2028 "quoted" \u0000 nul', layer: 'notes', key: 'k-2', contextPath: '/p/q' },
    ]);
    const lines = await collect(source.export());
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      expect(line.endsWith('\n')).toBe(true);
      expect(line.slice(0, -1)).not.toContain('\n');
    }
    expect(lines.map((line) => JSON.parse(line))).toEqual(written.map((record) => ({ v: 1, ...asStored(record) })));
  });

  it("import into another store gives the same records (ids, times, recall counts, keys); only seq is the new store's", async () => {
    const source = await engine.open();
    const target = await engine.open();
    const written = await source.rememberMany(
      Array.from({ length: 1200 }, (_, index) => ({
        content: `fact number ${index}`,
        tags: [`t${index % 5}`],
        contextPath: `/proj/${index % 3}`,
        layer: index % 4 === 0 ? 'archive' : 'application',
        metadata: { index },
        ...(index % 10 === 0 ? { key: `key-${index}` } : {}),
      })),
    );
    await source.forget(written[3]!.id);
    await source.recall({ query: 'number', limit: 7 });
    await source.flush();
    const report = await target.import(source.export(), { batchSize: 100 });
    expect(report).toEqual({ imported: 1199, skipped: 0, rejected: 0, rejections: [] });
    const before = await allRecords(source);
    const after = await allRecords(target);
    expect(after.map(withoutSeq)).toEqual(before.map(withoutSeq));
    expect(before.filter((record) => record.recallCount === 1)).toHaveLength(7);
    const hit = await target.get(written[42]!.id);
    expect(hit?.content).toBe('fact number 42');
    expect((await target.recall({ query: 'number', tags: ['t2'], contextPath: '/proj/0', limit: 1000 })).length).toBe(
      written.filter((_, index) => index % 5 === 2 && index % 3 === 0).length,
    );
    expect(await target.remember({ content: 'x', key: 'key-10' })).toEqual({ ...(await target.get(written[10]!.id)), created: false });
    expect((await target.verify()).ok).toBe(true);
  });

  it('an updated record is exported as it is now, with its updatedAt, and imported with it', async () => {
    const source = await engine.open();
    const record = await source.remember({ content: 'before', key: 'k' });
    const updated = await source.update(record.id, { content: 'after', tags: ['t'] });
    const [line] = await collect(source.export());
    expect(JSON.parse(line!)).toEqual({ v: 1, ...updated });
    const target = await engine.open();
    expect(await target.import([line!])).toMatchObject({ imported: 1, rejected: 0 });
    const imported = await target.get(record.id);
    expect(imported && withoutSeq(imported)).toEqual(withoutSeq(updated));
    expect(imported?.updatedAt).toBe(updated.updatedAt);
  });

  it('importing the same export again writes nothing: every record is skipped by its id', async () => {
    const source = await engine.open();
    const target = await engine.open();
    await source.rememberMany(Array.from({ length: 50 }, (_, index) => ({ content: `note ${index}` })));
    await target.import(source.export());
    const again = await target.import(source.export());
    expect(again).toMatchObject({ imported: 0, skipped: 50, rejected: 0 });
    expect((await target.stats()).records).toBe(50);
  });

  it('a record whose key is in the store already is skipped, whatever its id; so is a second one with the same key in one batch', async () => {
    const source = await engine.open();
    const target = await engine.open();
    const here = await target.remember({ content: 'here first', key: 'shared' });
    await source.remember({ content: 'elsewhere', key: 'shared' });
    expect(await target.import(source.export())).toMatchObject({ imported: 0, skipped: 1 });
    expect((await target.stats()).records).toBe(1);
    expect((await target.get(here.id))?.content).toBe('here first');
    const line = (id: string) =>
      JSON.stringify({ v: 1, id, content: `c ${id}`, tags: [], contextPath: '/', layer: 'application', createdAt: 5, recallCount: 0, metadata: {}, key: 'dup' });
    expect(await target.import([`${line('one')}\n${line('two')}\n`])).toMatchObject({ imported: 1, skipped: 1 });
    expect(await target.get('two')).toBeNull();
  });

  it('reports every bad line with its number, offset and reason, and imports the good ones', async () => {
    const target = await engine.open();
    const good = (id: string, content: string) =>
      JSON.stringify({ v: 1, id, seq: 1, content, tags: [], contextPath: '/', layer: 'application', createdAt: '2026-01-02T03:04:05.000Z', recallCount: 2, metadata: {}, key: null });
    const lines = [
      good('good-1', 'first good'),
      '{"v":1, "id": "broken json"',
      JSON.stringify({ v: 2, id: 'x' }),
      good('good-2', ''),
      good('has space', 'bad id'),
      JSON.stringify({ ...JSON.parse(good('good-3', 'bad layer')), layer: '../x' }),
      '',
      JSON.stringify({ ...JSON.parse(good('good-4', 'negative count')), recallCount: -1 }),
      good('good-5', 'second good'),
    ];
    const text = `${lines.join('\n')}\n`;
    const reported: number[] = [];
    const report = await target.import([text.slice(0, 100), text.slice(100)], { onReject: (rejection) => reported.push(rejection.lineNumber) });
    expect(report.imported).toBe(2);
    expect(report.rejected).toBe(6);
    expect(reported).toEqual([2, 3, 4, 5, 6, 8]);
    expect(report.rejections[0]!.offset).toBe(Buffer.byteLength(`${lines[0]}\n`));
    expect(await target.get('good-1')).toMatchObject({ content: 'first good', recallCount: 2, createdAt: '2026-01-02T03:04:05.000Z' });
    expect(await target.get('good-5')).not.toBeNull();
  });

  it('keeps times far from now exactly (before year 1, after year 9999)', async () => {
    const target = await engine.open();
    const times = ['0001-01-01T00:00:00.000Z', '-000100-06-01T12:00:00.123Z', '+020000-01-01T00:00:00.999Z', '1970-01-01T00:00:00.000Z'];
    const lines = times.map((createdAt, index) =>
      JSON.stringify({ v: 1, id: `t${index}`, content: `timed ${index}`, tags: [], contextPath: '/', layer: 'application', createdAt, recallCount: 0, metadata: {}, key: null }),
    );
    expect(await target.import([`${lines.join('\n')}\n`])).toMatchObject({ imported: 4 });
    for (const [index, createdAt] of times.entries()) expect((await target.get(`t${index}`))?.createdAt).toBe(createdAt);
    expect((await target.recall({ until: 0 })).map((hit) => hit.id).sort()).toEqual(['t0', 't1']);
  });
});
