import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '../src/index.js';
import { CURRENT_SCHEMA_VERSION } from '../src/engine/sqlite/sqlite-schema.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'memhub-schema-migration-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Turns a closed store of the current schema back into one of schema version 4, as a store written
 * by the previous release is: records_fts with FTS5's default tokenizer (no stemming), and the
 * last `tailRecords` records not indexed yet (above the search cursor: no FTS5 entry, no tag rows).
 */
function asVersion4(tailRecords: number): void {
  const db = new Database(join(dir, 'memory.db'));
  try {
    db.exec(`
      DROP TABLE records_fts;
      CREATE VIRTUAL TABLE records_fts USING fts5 (content, content = 'records', content_rowid = 'seq');
    `);
    const last = db.prepare('SELECT max(seq) FROM records').pluck().get() as number;
    const through = last - tailRecords;
    db.prepare('INSERT INTO records_fts (rowid, content) SELECT seq, content FROM records WHERE seq <= ?').run(through);
    db.prepare('DELETE FROM record_tags WHERE record_seq > ?').run(through);
    db.prepare(`UPDATE view_cursors SET through = ? WHERE view = 'search'`).run(through);
    db.pragma('user_version = 4');
  } finally {
    db.close();
  }
}

describe('a store of the previous schema (4) opens in the current one', () => {
  it('its search index is rebuilt with stemming, the unindexed tail included, its records and mirrors untouched', async () => {
    const store = await openStore({ dir });
    const written = await store.rememberMany([
      { content: 'Deploys go out on Tuesdays', tags: ['ops'] },
      { content: 'lunch at noon', tags: ['food'] },
      { content: 'we deployed the api', tags: ['ops'], layer: 'notes' },
      { content: 'deploying needs Node 20', tags: ['ops', 'node'] },
    ]);
    await store.close();
    const mirrorBefore = readFileSync(join(dir, 'layers', 'application.jsonl'), 'utf8');
    asVersion4(2);
    const before = new Database(join(dir, 'memory.db'), { readonly: true });
    // The old index: no stems, so "deploy" matches none of them.
    expect(before.prepare(`SELECT count(*) FROM records_fts WHERE records_fts MATCH '"deploy"'`).pluck().get()).toBe(0);
    before.close();

    const reopened = await openStore({ dir });
    try {
      const inspect = new Database(join(dir, 'memory.db'), { readonly: true });
      expect(inspect.pragma('user_version', { simple: true })).toBe(CURRENT_SCHEMA_VERSION);
      expect(String(inspect.prepare(`SELECT sql FROM sqlite_schema WHERE name = 'records_fts'`).pluck().get())).toContain('porter');
      // Every record indexed, the tail's tag rows written, the cursor at the end.
      expect(inspect.prepare('SELECT count(*) FROM record_tags').pluck().get()).toBe(5);
      inspect.close();
      const found = await reopened.recall({ query: 'deploy', count: false });
      expect(found.map((record) => record.id).sort()).toEqual([written[0]!.id, written[2]!.id, written[3]!.id].sort());
      expect((await reopened.recall({ tags: ['ops', 'node'], count: false })).map((record) => record.id)).toEqual([written[3]!.id]);
      const report = await reopened.verify();
      expect(report.problems).toEqual([]);
      expect(report.records).toBe(4);
      expect(readFileSync(join(dir, 'layers', 'application.jsonl'), 'utf8')).toBe(mirrorBefore);
      // And it takes writes as ever.
      await reopened.remember({ content: 'redeploys are fine', tags: ['ops'] });
      expect((await reopened.recall({ query: 'redeploy', count: false })).map((record) => record.content)).toEqual(['redeploys are fine']);
    } finally {
      await reopened.close();
    }
  });
});
