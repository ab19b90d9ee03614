import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type MemoryRecord, type Store } from '../src/index.js';

let dir: string;
let source: Store;
let target: Store;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'memhub-store-export-'));
  source = await openStore({ dir: join(dir, 'source') });
  target = await openStore({ dir: join(dir, 'target') });
});

afterEach(async () => {
  await source.close();
  await target.close();
  rmSync(dir, { recursive: true, force: true });
});

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

describe('export and import', () => {
  it('export writes one NDJSON line a record, in seq order, each ending with \\n', async () => {
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
    expect(lines.map((line) => JSON.parse(line))).toEqual(written.map((record) => ({ v: 1, ...record })));
  });

  it('import into another store gives the same records (ids, times, recall counts, keys); only seq is the new store\'s', async () => {
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
    await source.recall({ query: 'number', limit: 7 });
    await source.flush();
    const report = await target.import(source.export(), { batchSize: 100 });
    expect(report).toEqual({ imported: 1200, skipped: 0, rejected: 0, rejections: [] });
    const before = await allRecords(source);
    const after = await allRecords(target);
    expect(after.map(withoutSeq)).toEqual(before.map(withoutSeq));
    expect(before.filter((record) => record.recallCount === 1)).toHaveLength(7);
    // Imported records are found like any other.
    const hit = await target.get(written[42]!.id);
    expect(hit?.content).toBe('fact number 42');
    expect((await target.recall({ query: 'number', tags: ['t2'], contextPath: '/proj/0', limit: 1000 })).length).toBe(
      written.filter((_, index) => index % 5 === 2 && index % 3 === 0).length,
    );
    expect((await target.verify()).ok).toBe(true);
  });

  it('importing the same export again writes nothing: every record is skipped by its id', async () => {
    await source.rememberMany(Array.from({ length: 50 }, (_, index) => ({ content: `note ${index}` })));
    await target.import(source.export());
    const again = await target.import(source.export());
    expect(again).toMatchObject({ imported: 0, skipped: 50, rejected: 0 });
    expect((await target.stats()).records).toBe(50);
  });

  it('a record whose key is in the store already is skipped, whatever its id', async () => {
    const here = await target.remember({ content: 'here first', key: 'shared' });
    await source.remember({ content: 'elsewhere', key: 'shared' });
    expect(await target.import(source.export())).toMatchObject({ imported: 0, skipped: 1 });
    expect((await target.stats()).records).toBe(1);
    expect((await target.get(here.id))?.content).toBe('here first');
  });

  it('reports every bad line with its number, offset and reason, and imports the good ones', async () => {
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
    expect(report.rejections.map((rejection) => [rejection.lineNumber, rejection.reason])).toEqual([
      [2, expect.stringContaining('not JSON')],
      [3, expect.stringContaining('Invalid v')],
      [4, 'Invalid content: is empty'],
      [5, expect.stringContaining('Invalid id')],
      [6, expect.stringContaining('Invalid layer')],
      [8, expect.stringContaining('Invalid recallCount')],
    ]);
    expect(report.rejections[0]!.offset).toBe(Buffer.byteLength(`${lines[0]}\n`));
    const kept = await target.get('good-1');
    expect(kept).toMatchObject({ content: 'first good', recallCount: 2, createdAt: '2026-01-02T03:04:05.000Z' });
    expect(await target.get('good-5')).not.toBeNull();
  });
});

describe('verify and repair', () => {
  it('a fresh store with records verifies clean', async () => {
    await source.rememberMany(Array.from({ length: 20 }, (_, index) => ({ content: `fine ${index}`, tags: ['x', `y${index}`] })));
    const report = await source.verify();
    expect(report).toMatchObject({ ok: true, engine: 'sqlite', records: 20, problems: [] });
  });

  it('reports no corruption in a healthy store after another connection rewrote its full-text index (FTS5 caches its structure per connection)', async () => {
    for (let batch = 0; batch < 20; batch += 1) {
      await source.rememberMany(Array.from({ length: 20 }, (_, index) => ({ content: `word${index} alpha ${batch}` })));
    }
    await source.recall({ query: 'alpha' }); // this connection now holds FTS5's structure in its cache
    const other = await openStore({ dir: join(dir, 'source') });
    for (let batch = 0; batch < 200; batch += 1) {
      await other.rememberMany(Array.from({ length: 10 }, (_, index) => ({ content: `beta${index} gamma ${batch}` })));
    }
    await other.close();
    expect((await source.verify()).problems).toEqual([]);
  });

  it('finds tag rows and a full-text index that no longer match the records, and repair rebuilds them', async () => {
    const [first, second] = await source.rememberMany([
      { content: 'alpha bravo', tags: ['x', 'y'] },
      { content: 'charlie delta', tags: ['z'] },
    ]);
    // Damage the derived tables from outside, as a bad tool or a half-applied script would.
    const outside = new Database(join(dir, 'source', 'memory.db'));
    outside.prepare('DELETE FROM record_tags WHERE record_seq = ? AND tag = ?').run(first!.seq, 'y');
    outside.prepare(`INSERT INTO records_fts (records_fts, rowid, content) VALUES ('delete', ?, ?)`).run(second!.seq, 'charlie delta');
    outside.close();

    const report = await source.verify();
    expect(report.ok).toBe(false);
    expect(report.problems.map((problem) => problem.kind).sort()).toEqual(['full-text-index', 'tags']);
    expect(report.problems.find((problem) => problem.kind === 'tags')?.message).toContain(first!.id);

    const repaired = await source.repair();
    expect(repaired.actions.join('\n')).toContain('full-text index');
    expect(repaired.after).toMatchObject({ ok: true, problems: [] });
    expect((await source.recall({ tags: ['y'] })).map((hit) => hit.id)).toEqual([first!.id]);
    expect((await source.recall({ query: 'delta' })).map((hit) => hit.id)).toEqual([second!.id]);
  });
});
