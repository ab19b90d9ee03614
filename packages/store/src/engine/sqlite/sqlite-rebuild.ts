import { existsSync, renameSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { kernelLockHolders, openLock, type HolderInfo } from '@memhub/lock';
import Database from 'better-sqlite3';
import { StoreError, StoreValidationError } from '../../errors.js';
import { LAYERS_FOLDER, layerFilesIn } from '../../mirror/jsonl-mirror.js';
import { refuseSymlink } from '../../mirror/refuse-symlinks.js';
import { DATABASE_FILE, PRESENCE_LOCK_FILE, WRITE_LOCK_FILE } from './sqlite-engine.js';
import { isCurrentSchema, migrateSchema, openSqliteConnection, type Durability } from './sqlite-database.js';
import { rewriteLayerFiles } from './sqlite-rebuild-mirror.js';
import { replayLayers } from './sqlite-rebuild-replay.js';
import type { RebuildLayerReport, SkippedLineCounts } from './sqlite-rebuild-report.js';
import { markRebuildFinished, markRebuildStarted, unfinishedRebuildStartedAt } from './sqlite-settings.js';

export type { SkippedLineKind } from './sqlite-rebuild-lines.js';
export type { RebuildLayerReport, RebuildSkippedLine, SkippedLineCounts } from './sqlite-rebuild-report.js';

export interface RebuildOptions {
  /** Replace a memory.db that is healthy and holds records (it is kept beside, renamed). Default false. */
  readonly force?: boolean;
  /** How long to wait for the store's write lock. Default 30000. */
  readonly lockTimeoutMs?: number;
  readonly durability?: Durability;
}

/** What rebuildFromMirror() did. */
export interface RebuildReport {
  /** Records in the new database. */
  readonly records: number;
  /** The store's last seq after the rebuild: the highest seq of a line it applied. */
  readonly lastSeq: number;
  /** Per layer file: lines read, and the lines skipped (each with its line number, byte offset, kind and reason). */
  readonly layers: readonly RebuildLayerReport[];
  /** Lines skipped in every layer file, each of which is in its layer's quarantine file. */
  readonly skippedLines: number;
  /** The same, counted by kind (see SkippedLineKind). */
  readonly skippedByKind: SkippedLineCounts;
  /** The old database files, renamed beside the new one (nothing is deleted). */
  readonly movedAside: readonly string[];
}

/**
 * rebuildFromMirror() refused, and changed nothing. `reason`: `'healthy'`, the database is healthy
 * and holds records (`{ force: true }` replaces it, keeping it renamed beside the new one);
 * `'in-use'`, a store is open on the folder.
 */
export class StoreRebuildRefusedError extends StoreError {
  readonly reason: 'healthy' | 'in-use';

  constructor(reason: 'healthy' | 'in-use', message: string) {
    super('ERR_MEMHUB_REBUILD_REFUSED', message);
    this.reason = reason;
  }
}

/**
 * Recreates a lost or corrupt `memory.db` from the store's JSONL layer mirrors: every record with
 * its id, seq, content, tags, contextPath, layer, time, metadata, key and recall count (as of the
 * last recall-count flush that was mirrored).
 *
 * Run it with every process of the store stopped: it refuses while any store is open on the
 * folder (each holds `memory.db.presence.lock` shared for as long as it is open; the rebuild takes
 * it exclusively, without waiting, and holds it throughout, so no store opens meanwhile: an open
 * waits for it), while any other program has the database open (the kernel's lock table tells), or
 * when `memory.db` is healthy and holds records (unless `force`); it holds the write lock too. The old `memory.db`, `-wal`
 * and `-shm` are renamed beside it (`memory.db.replaced-<time>`, `-wal`, `-shm`), never deleted;
 * renaming the WAL and shared-memory files is safe only because nobody has the database open,
 * and it is necessary: SQLite would otherwise replay the old WAL into the new file.
 *
 * Each layer file is read as a stream and replayed in seq order, the way verify() replays it, so
 * a record that moved between layers, was forgotten, or was counted comes out as the database
 * had it. Whatever a line holds, the rebuild finishes with everything else (see replayLayers()):
 * a line that is not a mirror line, whose record remember() would have refused (an empty tag, a
 * relative contextPath, a time that is not an ISO date, a record of another layer, ...), or that
 * conflicts with a line before it (a seq the file has already, a record the layer holds already,
 * a record id, seq or idempotency key that another layer's record has) is skipped (a forget or
 * move-out of a record the layer does not hold is a no-op, as verify() replays it: the mirror's
 * own catch-up writes those): counted by kind and listed in the report (line number, byte offset,
 * reason), and its bytes copied to the layer's quarantine file (`<layer>.jsonl.quarantine`).
 *
 * Once the new database is finished, every layer file is rewritten from it, in place (as
 * `repair()` does: the layer's records, then a `snapshot` line) and re-indexed, so that the
 * files and the database agree and `verify()` is clean: the skipped lines are in the quarantine
 * files, and the history of forgets, moves and counts is in the database's records. (The layer
 * files are never replaced while other processes may hold them open; here nobody does.) A
 * rebuild killed before the database is finished changed no layer file; one killed while it
 * rewrote them (in layer name order) leaves a finished database: openStore rebuilds the layer file
 * it cut short (one that ends before the database's last seq), and a file it had not reached yet
 * is as it was, so verify() reports the lines of it that the rebuild skipped and repair()
 * rewrites it (those lines are in the quarantine file already).
 */
export async function rebuildFromMirror(dir: string, options: RebuildOptions = {}): Promise<RebuildReport> {
  if (typeof dir !== 'string' || dir === '') throw new StoreValidationError('dir', 'expected a non-empty path');
  const folder = isAbsolute(dir) ? dir : resolve(dir);
  const layers = layerFilesIn(join(folder, LAYERS_FOLDER));
  if (layers.length === 0) throw new StoreValidationError('dir', `${folder} has no layer mirror (${LAYERS_FOLDER}/<layer>.jsonl) to rebuild from`);
  refuseSymlinksAmong(join(folder, LAYERS_FOLDER), layers);
  const presence = openLock(join(folder, PRESENCE_LOCK_FILE), { purpose: 'memhub rebuild from mirror' });
  try {
    const alone = presence.tryAcquire({ mode: 'exclusive', purpose: 'memhub rebuild from mirror' });
    if (alone === null) throw refusedWhileOpen(folder, presence.status().holders);
    try {
      return await rebuildAlone(folder, layers, options);
    } finally {
      alone.release();
    }
  } finally {
    presence.close();
  }
}

/** The rebuild itself, once this thread holds the presence lock exclusively: no store is open on the folder. */
async function rebuildAlone(folder: string, layers: readonly string[], options: RebuildOptions): Promise<RebuildReport> {
  const lock = openLock(join(folder, WRITE_LOCK_FILE), { purpose: 'memhub rebuild from mirror', timeoutMs: options.lockTimeoutMs ?? 30_000 });
  try {
    const held = await lock.acquire();
    try {
      const databasePath = join(folder, DATABASE_FILE);
      refuseIfInUse(databasePath);
      const existing = inspectDatabase(databasePath);
      if (existing.healthyRecords !== undefined && existing.healthyRecords > 0 && options.force !== true) {
        throw new StoreRebuildRefusedError(
          'healthy',
          `${databasePath} is healthy and holds ${existing.healthyRecords} record(s); pass { force: true } to replace it (it is kept, renamed)`,
        );
      }
      const movedAside = moveAside(databasePath);
      const db = openSqliteConnection(databasePath, options.durability ?? 'normal', 5_000);
      try {
        // The schema and the in-progress mark commit together, so a rebuild killed at any moment
        // leaves either no store or one that says it is unfinished (openStore refuses it).
        migrateSchema(db, () => markRebuildStarted(db, new Date()));
        const applied = await replayLayers(db, folder, layers);
        db.transaction(() => markRebuildFinished(db)).immediate();
        await rewriteLayerFiles(db, join(folder, LAYERS_FOLDER), layers, {
          syncAppends: options.durability === 'full',
          lockTimeoutMs: options.lockTimeoutMs ?? 30_000,
        });
        const records = db.prepare('SELECT count(*) FROM records').pluck().get() as number;
        return { records, ...applied, movedAside };
      } finally {
        db.close();
      }
    } finally {
      held.release();
    }
  } finally {
    lock.close();
  }
}

function refusedWhileOpen(folder: string, holders: readonly HolderInfo[]): StoreRebuildRefusedError {
  const pids = [...new Set(holders.map((holder) => (holder.pid === process.pid ? `${holder.pid} (this process)` : String(holder.pid ?? '?'))))];
  return new StoreRebuildRefusedError(
    'in-use',
    `the store in ${folder} is open${pids.length > 0 ? ` in process ${pids.join(', ')}` : ''}: close every store on it before rebuilding ` +
      `(${PRESENCE_LOCK_FILE} is held; memhub locks shows who holds it)`,
  );
}

/** A symlink among the layer files would make the rewrite fail after the new database is finished: refused first. */
function refuseSymlinksAmong(layersFolder: string, layers: readonly string[]): void {
  for (const layer of layers) {
    for (const suffix of ['.jsonl', '.idx', '.jsonl.lock', '.jsonl.quarantine']) refuseSymlink(join(layersFolder, `${layer}${suffix}`));
  }
}

/**
 * A second line of defence, for programs that are not memhub (a sqlite3 shell): every SQLite
 * connection holds a POSIX lock on the database or its -shm file, which the kernel's table lists.
 */
function refuseIfInUse(databasePath: string): void {
  for (const path of [databasePath, `${databasePath}-shm`, `${databasePath}-wal`]) {
    const holders = kernelLockHolders(path);
    if (holders !== undefined && holders.length > 0) {
      const pids = [...new Set(holders.map((holder) => holder.pid))].join(', ');
      throw new StoreRebuildRefusedError('in-use', `${path} is open in process ${pids}: close every store on it before rebuilding`);
    }
  }
}

/** Whether memory.db is there and passes SQLite's quick_check, and how many records it holds. */
function inspectDatabase(databasePath: string): { readonly healthyRecords: number | undefined } {
  if (!existsSync(databasePath)) return { healthyRecords: undefined };
  let db: Database.Database | undefined;
  try {
    db = new Database(databasePath, { readonly: true, fileMustExist: true });
    const check = db.pragma('quick_check', { simple: true });
    if (check !== 'ok') return { healthyRecords: undefined };
    // A rebuild that was cut off holds part of the mirror only: it is replaced like a broken file, without force.
    if (isCurrentSchema(db) && unfinishedRebuildStartedAt(db) !== undefined) return { healthyRecords: undefined };
    return { healthyRecords: db.prepare('SELECT count(*) FROM records').pluck().get() as number };
  } catch {
    return { healthyRecords: undefined };
  } finally {
    db?.close();
  }
}

function moveAside(databasePath: string): string[] {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const moved: string[] = [];
  for (const suffix of ['', '-wal', '-shm']) {
    const from = `${databasePath}${suffix}`;
    if (statSync(from, { throwIfNoEntry: false }) === undefined) continue;
    const to = `${databasePath}.replaced-${stamp}${suffix}`;
    renameSync(from, to);
    moved.push(to);
  }
  return moved;
}
