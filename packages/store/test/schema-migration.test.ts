import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '../src/index.js';
import { CURRENT_SCHEMA_VERSION } from '../src/engine/sqlite/sqlite-schema.js';
import { SEARCH_DATABASE_FILE } from '../src/engine/sqlite/sqlite-search-database.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'memhub-schema-migration-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Turns a closed store of the current schema back into one of schema version 4, as a store written
 * by an earlier release is: no lifecycle columns (pinned, expiry), no record versions (no
 * updated_at), the search index inside memory.db, records_fts with FTS5's default
 * tokenizer (no stemming), and the last `tailRecords` records not indexed yet (above the search
 * cursor: no FTS5 entry, no tag rows); no memory.search.db.
 */
function asVersion4(tailRecords: number): void {
  const db = new Database(join(dir, 'memory.db'));
  try {
    db.exec(`
      DROP INDEX records_by_expiry;
      DROP INDEX records_pinned;
      ALTER TABLE records DROP COLUMN pinned;
      ALTER TABLE records DROP COLUMN expires_at;
      ALTER TABLE records DROP COLUMN last_recalled_at;
      DROP TABLE record_versions;
      ALTER TABLE records DROP COLUMN updated_at;
      DROP TABLE search_removals;
      DELETE FROM store_settings WHERE name = 'store_id';
      CREATE TABLE record_tags (
        tag TEXT NOT NULL,
        record_seq INTEGER NOT NULL REFERENCES records (seq) ON DELETE CASCADE,
        PRIMARY KEY (tag, record_seq)
      ) WITHOUT ROWID;
      CREATE INDEX record_tags_by_record ON record_tags (record_seq);
      CREATE VIRTUAL TABLE records_fts USING fts5 (content, content = 'records', content_rowid = 'seq');
      CREATE TABLE view_cursors (view TEXT PRIMARY KEY, through INTEGER NOT NULL) WITHOUT ROWID;
    `);
    const last = db.prepare('SELECT max(seq) FROM records').pluck().get() as number;
    const through = last - tailRecords;
    db.prepare('INSERT INTO records_fts (rowid, content) SELECT seq, content FROM records WHERE seq <= ?').run(through);
    db.prepare('INSERT INTO record_tags (tag, record_seq) SELECT json_each.value, seq FROM records, json_each(records.tags) WHERE seq <= ?').run(through);
    db.prepare(`INSERT INTO view_cursors (view, through) VALUES ('search', ?)`).run(through);
    db.pragma('user_version = 4');
  } finally {
    db.close();
  }
  for (const suffix of ['', '-wal', '-shm']) rmSync(join(dir, `${SEARCH_DATABASE_FILE}${suffix}`), { force: true });
}

describe('a store of schema version 4 opens in the current one', () => {
  it('its search index moves to memory.search.db, made again with stemming from every record; records and mirrors untouched', async () => {
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
      // The index's tables left memory.db; the writes of forgets have their table.
      expect(inspect.prepare(`SELECT name FROM sqlite_schema WHERE name IN ('records_fts', 'record_tags', 'view_cursors', 'search_removals')`).pluck().all()).toEqual(['search_removals']);
      inspect.close();
      const found = await reopened.recall({ query: 'deploy', count: false });
      expect(found.map((record) => record.id).sort()).toEqual([written[0]!.id, written[2]!.id, written[3]!.id].sort());
      expect((await reopened.recall({ tags: ['ops', 'node'], count: false })).map((record) => record.id)).toEqual([written[3]!.id]);
      const index = new Database(join(dir, SEARCH_DATABASE_FILE), { readonly: true });
      expect(String(index.prepare(`SELECT sql FROM sqlite_schema WHERE name = 'records_fts'`).pluck().get())).toContain('porter');
      // Every record indexed, the tail's tag rows written.
      expect(index.prepare('SELECT count(*) FROM record_tags').pluck().get()).toBe(5);
      index.close();
      const report = await reopened.verify();
      expect(report.problems).toEqual([]);
      expect(report.records).toBe(4);
      expect(readFileSync(join(dir, 'layers', 'application.jsonl'), 'utf8')).toBe(mirrorBefore);
      // And it takes writes as ever.
      await reopened.remember({ content: 'redeploys are fine', tags: ['ops'] });
      expect((await reopened.recall({ query: 'redeploy', count: false })).map((record) => record.content)).toEqual(['redeploys are fine']);
      // A record written before the migration takes updates, and keeps its history from then on.
      const updated = await reopened.update(written[1]!.id, { content: 'lunch at one' });
      expect((await reopened.history(written[1]!.id)).map((version) => [version.seq, version.content])).toEqual([
        [written[1]!.seq, 'lunch at noon'],
        [updated.seq, 'lunch at one'],
      ]);
      // ...and a lifecycle: pinned first, expired not recalled.
      await reopened.update(written[0]!.id, { pinned: true });
      await reopened.update(written[3]!.id, { expiresAt: Date.now() - 1 });
      expect((await reopened.recall({ query: 'deploy', count: false })).map((record) => record.id)).toEqual([written[0]!.id, written[2]!.id]);
      expect((await reopened.verify()).problems).toEqual([]);
    } finally {
      await reopened.close();
    }
  });
});
