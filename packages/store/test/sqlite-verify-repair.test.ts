import { execFile } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../src/index.js';

/**
 * verify() and repair() of what only SQLite has: its full-text index and tag rows as separate
 * tables. What holds on both engines is in behaviour/verify.test.ts.
 */
let dir: string;
let source: Store;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'memhub-store-verify-'));
  source = await openStore({ dir: join(dir, 'source') });
});

afterEach(async () => {
  await source.close();
  rmSync(dir, { recursive: true, force: true });
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
    await source.flush(); // the search index follows in batches: flush() brings it up to date
    // Damage the search index from outside, as a bad tool or a half-applied script would.
    const outside = new Database(join(dir, 'source', 'memory.search.db'));
    outside.prepare('DELETE FROM record_tags WHERE record_seq = ? AND tag = ?').run(first!.seq, 'y');
    outside.prepare('DELETE FROM records_fts WHERE rowid = ?').run(second!.seq);
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

  it('finds kept versions that belong to no record (a hand-edit), and repair deletes them; the real history stays', async () => {
    const record = await source.remember({ content: 'first' });
    const updated = await source.update(record.id, { content: 'second' });
    const outside = new Database(join(dir, 'source', 'memory.db'));
    outside
      .prepare(`INSERT INTO record_versions (seq, id, layer, content, tags, context_path, metadata, written_at) VALUES (?, ?, 'application', 'x', '[]', '/', '{}', 0)`)
      .run(updated.seq + 100, 'no-such-record');
    outside.close();
    const report = await source.verify();
    expect(report.problems.map((problem) => problem.kind)).toEqual(['history']);
    expect(report.problems[0]?.message).toContain('1 kept version');
    const repaired = await source.repair();
    expect(repaired.after).toMatchObject({ ok: true, problems: [] });
    expect((await source.history(record.id)).map((version) => version.content)).toEqual(['first', 'second']);
  });

  it('verifies clean a store whose memory.db this process may only read (mode 444): no write is needed to check it', async () => {
    const store = join(dir, 'read-only');
    mkdirSync(store);
    // As root the mode is not enforced: the store is made and checked by nobody, in child processes.
    const asNobody = process.getuid?.() === 0;
    if (asNobody) {
      chmodSync(dir, 0o755);
      chmodSync(join(dir, 'source'), 0o755);
      chownSync(store, 65534, 65534);
    }
    const run = async (script: string): Promise<string> =>
      (
        await promisify(execFile)(process.execPath, ['--conditions=@memhub/source', '--import', 'tsx', '--input-type=module', '-e', script], {
        cwd: join(import.meta.dirname, '..'),
        encoding: 'utf8',
        timeout: 30_000,
        ...(asNobody ? { uid: 65534, gid: 65534 } : {}),
      })
      ).stdout;
    await run(`
      import { openStore } from '@memhub/store';
      const store = await openStore({ dir: ${JSON.stringify(store)} });
      await store.rememberMany(Array.from({ length: 50 }, (_, index) => ({ content: 'kept ' + index, tags: ['t' + (index % 3)] })));
      await store.close();
    `);
    chmodSync(join(store, 'memory.db'), 0o444);
    const output = await run(`
      import { openStore } from '@memhub/store';
      const store = await openStore({ dir: ${JSON.stringify(store)} });
      const report = await store.verify();
      console.log(JSON.stringify({ ok: report.ok, records: report.records, problems: report.problems }));
      await store.close();
    `);
    expect(JSON.parse(output.trim().split('\n').at(-1) ?? '{}')).toEqual({ ok: true, records: 50, problems: [] });
  });
});
