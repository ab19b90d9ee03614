import type Database from 'better-sqlite3';
import { isMirrored, parseMirrorSetting } from './sqlite-change-journal.js';

/**
 * Store-wide settings changed on open, inside the schema transaction (under the write lock,
 * BEGIN IMMEDIATE): every process reads them in each write transaction, so all agree at once.
 */

/**
 * Sets which layers are mirrored ('*', 'off' or a JSON array of layer names). A layer that starts
 * being mirrored is marked as pruned through the latest seq, so that its file (missing, or left
 * from an earlier time) is rebuilt from its records at the next catch-up; a layer that stops being
 * mirrored loses its waiting journal rows.
 */
export function applyMirrorSetting(db: Database.Database, wanted: string): void {
  const current = currentMirrorSetting(db);
  if (current === wanted) return;
  db.prepare(`INSERT INTO store_settings (name, value) VALUES ('mirror', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value`).run(wanted);
  const before = parseMirrorSetting(current);
  const after = parseMirrorSetting(wanted);
  const lastSeq = db.prepare('SELECT last_seq FROM store_sequence WHERE id = 1').pluck().get() as number;
  const layers = db.prepare('SELECT DISTINCT layer FROM records UNION SELECT DISTINCT layer FROM mirror_journal').pluck().all() as string[];
  const markPruned = db.prepare(
    'INSERT INTO mirror_layers (layer, pruned_through) VALUES (?, ?) ON CONFLICT (layer) DO UPDATE SET pruned_through = max(pruned_through, excluded.pruned_through)',
  );
  const dropJournal = db.prepare('DELETE FROM mirror_journal WHERE layer = ?');
  for (const layer of layers) {
    if (!isMirrored(before, layer) && isMirrored(after, layer)) markPruned.run(layer, lastSeq);
    if (!isMirrored(after, layer)) dropJournal.run(layer);
  }
}

/**
 * Moves the store's seq counter up to `seq` if it is below: a mirror file that is ahead of the
 * database (restored from an older backup) must never see a new change reuse one of its seqs.
 */
export function raiseSequenceTo(db: Database.Database, seq: number): boolean {
  const raised = db.prepare('UPDATE store_sequence SET last_seq = ? WHERE id = 1 AND last_seq < ?').run(seq, seq).changes > 0;
  // memory.db is an older copy of itself: a search index made from the later one holds records
  // this copy does not have, under seqs it will not reuse. A new store_id has it made again.
  if (raised) db.prepare(`UPDATE store_settings SET value = lower(hex(randomblob(16))) WHERE name = 'store_id'`).run();
  return raised;
}

/** The store's mirror setting ('*' when none was ever written). Only on the current schema. */
export function currentMirrorSetting(db: Database.Database): string {
  return (db.prepare(`SELECT value FROM store_settings WHERE name = 'mirror'`).pluck().get() as string | undefined) ?? '*';
}

/** The store's last seq. Only on the current schema. */
export function lastSeqOf(db: Database.Database): number {
  return db.prepare('SELECT last_seq FROM store_sequence WHERE id = 1').pluck().get() as number;
}

/**
 * Set by rebuildFromMirror() in the transaction that creates the new database, and cleared in
 * its last one: a database that still has it is a rebuild that was cut off (a crash, a kill), and
 * holds only part of the mirror. Nothing opens it as a store; a new rebuild replaces it.
 */
const REBUILD_SETTING = 'rebuild-in-progress';

export function markRebuildStarted(db: Database.Database, startedAt: Date): void {
  db.prepare('INSERT INTO store_settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value').run(
    REBUILD_SETTING,
    JSON.stringify({ pid: process.pid, startedAt: startedAt.toISOString() }),
  );
}

export function markRebuildFinished(db: Database.Database): void {
  db.prepare('DELETE FROM store_settings WHERE name = ?').run(REBUILD_SETTING);
}

/** When the unfinished rebuild that made this database started, or undefined if it is not one. Only on the current schema. */
export function unfinishedRebuildStartedAt(db: Database.Database): string | undefined {
  const value = db.prepare('SELECT value FROM store_settings WHERE name = ?').pluck().get(REBUILD_SETTING) as string | undefined;
  if (value === undefined) return undefined;
  try {
    const { startedAt } = JSON.parse(value) as { startedAt?: unknown };
    return typeof startedAt === 'string' ? startedAt : 'an unknown time';
  } catch {
    return 'an unknown time';
  }
}
