import { createReadStream, existsSync, renameSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { kernelLockHolders, openLock } from '@memhub/lock';
import Database from 'better-sqlite3';
import { StoreError, StoreValidationError } from '../../errors.js';
import { hitFaultPoint } from '../../fault-points.js';
import { BATCH_CONTENT_CHARS } from '../../page-sizer.js';
import { LAYERS_FOLDER, layerFilesIn } from '../../mirror/jsonl-mirror.js';
import { MirrorLineError, parseMirrorLine, type MirrorLine } from '../../mirror/mirror-line.js';
import { ndjsonLines } from '../../ndjson-lines.js';
import { DATABASE_FILE, WRITE_LOCK_FILE } from './sqlite-engine.js';
import { isCurrentSchema, migrateSchema, openSqliteConnection, type Durability } from './sqlite-database.js';
import { markRebuildFinished, markRebuildStarted, unfinishedRebuildStartedAt } from './sqlite-settings.js';

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
  /** The store's last seq after the rebuild: the highest seq in any layer file. */
  readonly lastSeq: number;
  /** Per layer file: lines read, and the lines that were not mirror lines (skipped). */
  readonly layers: readonly {
    readonly layer: string;
    readonly lines: number;
    readonly badLines: readonly { readonly lineNumber: number; readonly offset: number; readonly reason: string }[];
  }[];
  /** The old database files, renamed beside the new one (nothing is deleted). */
  readonly movedAside: readonly string[];
}

/** rebuildFromMirror() refused: the database is healthy, or in use. */
export class StoreRebuildRefusedError extends StoreError {
  constructor(message: string) {
    super('ERR_MEMHUB_REBUILD_REFUSED', message);
  }
}

/** Lines applied per transaction, or fewer once their records hold BATCH_CONTENT_CHARS of content (records may be 1 MiB each). */
const BATCH = 2_000;

/**
 * Recreates a lost or corrupt `memory.db` from the store's JSONL layer mirrors: every record with
 * its id, seq, content, tags, contextPath, layer, time, metadata, key and recall count (as of the
 * last recall-count flush that was mirrored).
 *
 * Run it with every process of the store stopped: it holds the store's write lock throughout,
 * and refuses while any process still has the database open (the kernel's lock table tells) or
 * when `memory.db` is healthy and holds records (unless `force`). The old `memory.db`, `-wal`
 * and `-shm` are renamed beside it (`memory.db.replaced-<time>`, `-wal`, `-shm`), never deleted;
 * renaming the WAL and shared-memory files is safe only because nobody has the database open,
 * and it is necessary: SQLite would otherwise replay the old WAL into the new file.
 *
 * The layer files are read as streams and merged in seq order, so a record that moved between
 * layers, was forgotten, or was counted comes out as the database had it.
 */
export async function rebuildFromMirror(dir: string, options: RebuildOptions = {}): Promise<RebuildReport> {
  if (typeof dir !== 'string' || dir === '') throw new StoreValidationError('dir', 'expected a non-empty path');
  const folder = isAbsolute(dir) ? dir : resolve(dir);
  const layers = layerFilesIn(join(folder, LAYERS_FOLDER));
  if (layers.length === 0) throw new StoreValidationError('dir', `${folder} has no layer mirror (${LAYERS_FOLDER}/<layer>.jsonl) to rebuild from`);
  const lock = openLock(join(folder, WRITE_LOCK_FILE), { purpose: 'memhub rebuild from mirror', timeoutMs: options.lockTimeoutMs ?? 30_000 });
  try {
    const held = await lock.acquire();
    try {
      const databasePath = join(folder, DATABASE_FILE);
      refuseIfInUse(databasePath);
      const existing = inspectDatabase(databasePath);
      if (existing.healthyRecords !== undefined && existing.healthyRecords > 0 && options.force !== true) {
        throw new StoreRebuildRefusedError(
          `${databasePath} is healthy and holds ${existing.healthyRecords} record(s); pass force to replace it (it is kept, renamed)`,
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
        const records = db.prepare('SELECT count(*) FROM records').pluck().get() as number;
        return { records, lastSeq: applied.lastSeq, layers: applied.layers, movedAside };
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

function refuseIfInUse(databasePath: string): void {
  for (const path of [databasePath, `${databasePath}-shm`, `${databasePath}-wal`]) {
    const holders = kernelLockHolders(path);
    if (holders !== undefined && holders.length > 0) {
      const pids = [...new Set(holders.map((holder) => holder.pid))].join(', ');
      throw new StoreRebuildRefusedError(`${path} is open in process ${pids}: close every store on it before rebuilding`);
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

interface LayerCursor {
  readonly layer: string;
  readonly lines: AsyncIterator<{ readonly line: MirrorLine | undefined; readonly lineNumber: number; readonly offset: number; readonly reason?: string }>;
  head: MirrorLine | undefined;
  count: number;
  readonly badLines: { lineNumber: number; offset: number; reason: string }[];
  done: boolean;
}

/** Merges the layer files by seq (each is already in seq order) and applies their lines in that order. */
async function replayLayers(db: Database.Database, folder: string, layers: readonly string[]) {
  const cursors: LayerCursor[] = layers.map((layer) => ({
    layer,
    lines: readLayerFile(join(folder, LAYERS_FOLDER, `${layer}.jsonl`)),
    head: undefined,
    count: 0,
    badLines: [],
    done: false,
  }));
  const advance = async (cursor: LayerCursor) => {
    for (;;) {
      const next = await cursor.lines.next();
      if (next.done === true) {
        cursor.head = undefined;
        cursor.done = true;
        return;
      }
      cursor.count += 1;
      if (next.value.line !== undefined) {
        cursor.head = next.value.line;
        return;
      }
      cursor.badLines.push({ lineNumber: next.value.lineNumber, offset: next.value.offset, reason: next.value.reason ?? 'not a mirror line' });
    }
  };
  for (const cursor of cursors) await advance(cursor);
  const apply = new LineApplier(db);
  let batch: { line: MirrorLine; layer: string }[] = [];
  let batchChars = 0;
  const flush = () => {
    const lines = batch;
    batch = [];
    batchChars = 0;
    db.transaction(() => {
      for (const { line, layer } of lines) apply.line(line, layer);
    }).immediate();
  };
  for (;;) {
    let next: LayerCursor | undefined;
    for (const cursor of cursors) {
      if (cursor.head !== undefined && (next === undefined || cursor.head.seq < (next.head as MirrorLine).seq)) next = cursor;
    }
    if (next === undefined) break;
    const line = next.head as MirrorLine;
    batch.push({ line, layer: next.layer });
    if (line.op === 'remember' || line.op === 'move-in') batchChars += line.record.content.length;
    if (batch.length >= BATCH || batchChars >= BATCH_CONTENT_CHARS) {
      flush();
      hitFaultPoint('rebuild-mid-replay');
    }
    await advance(next);
  }
  flush();
  hitFaultPoint('rebuild-mid-replay');
  db.prepare('UPDATE store_sequence SET last_seq = max(last_seq, ?) WHERE id = 1').run(apply.lastSeq);
  return { lastSeq: apply.lastSeq, layers: cursors.map(({ layer, count, badLines }) => ({ layer, lines: count, badLines })) };
}

async function* readLayerFile(path: string) {
  for await (const line of ndjsonLines(createReadStream(path))) {
    if (!line.terminated) {
      yield { line: undefined, lineNumber: line.lineNumber, offset: line.offset, reason: 'torn last line (no newline)' };
      continue;
    }
    if (line.text === undefined) {
      yield { line: undefined, lineNumber: line.lineNumber, offset: line.offset, reason: `a line of ${line.length} bytes` };
      continue;
    }
    try {
      yield { line: parseMirrorLine(line.text), lineNumber: line.lineNumber, offset: line.offset };
    } catch (error) {
      if (!(error instanceof MirrorLineError)) throw error;
      yield { line: undefined, lineNumber: line.lineNumber, offset: line.offset, reason: error.reason };
    }
  }
}

/** Applies mirror lines, in seq order, to the new database: the same effects the original changes had. */
class LineApplier {
  lastSeq = 0;
  readonly #insert: Database.Statement;
  readonly #index: Database.Statement;
  readonly #tag: Database.Statement;
  readonly #find: Database.Statement<unknown[], { seq: number; layer: string; content: string; recall_count: number }>;
  readonly #move: Database.Statement;
  readonly #delete: Database.Statement;
  readonly #unindex: Database.Statement;
  readonly #count: Database.Statement;

  constructor(db: Database.Database) {
    this.#insert = db.prepare(
      `INSERT INTO records (seq, id, layer, content, tags, context_path, metadata, idempotency_key, created_at, recall_count)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#index = db.prepare('INSERT INTO records_fts (rowid, content) VALUES (?, ?)');
    this.#tag = db.prepare('INSERT OR IGNORE INTO record_tags (tag, record_seq) VALUES (?, ?)');
    this.#find = db.prepare('SELECT seq, layer, content, recall_count FROM records WHERE id = ?');
    this.#move = db.prepare('UPDATE records SET layer = ?, recall_count = max(recall_count, ?) WHERE id = ?');
    this.#delete = db.prepare('DELETE FROM records WHERE id = ?');
    this.#unindex = db.prepare(`INSERT INTO records_fts (records_fts, rowid, content) VALUES ('delete', ?, ?)`);
    this.#count = db.prepare('UPDATE records SET recall_count = max(recall_count, ?) WHERE id = ? AND layer = ?');
  }

  line(line: MirrorLine, layer: string): void {
    this.lastSeq = Math.max(this.lastSeq, line.seq);
    switch (line.op) {
      case 'remember':
      case 'move-in': {
        const record = line.record;
        if (this.#find.get(record.id) !== undefined) {
          this.#move.run(layer, record.recallCount, record.id);
          return;
        }
        this.#insert.run(
          record.seq,
          record.id,
          layer,
          record.content,
          JSON.stringify(record.tags),
          record.contextPath,
          JSON.stringify(record.metadata),
          record.key,
          Date.parse(record.createdAt),
          record.recallCount,
        );
        this.#index.run(record.seq, record.content);
        for (const tag of record.tags) this.#tag.run(tag, record.seq);
        return;
      }
      case 'forget':
      case 'move-out': {
        // Only from this layer: the other half of a move may have been applied first.
        const known = this.#find.get(line.id);
        if (known === undefined || known.layer !== layer) return;
        this.#unindex.run(known.seq, known.content);
        this.#delete.run(line.id);
        return;
      }
      case 'recall-counts':
        for (const [id, total] of Object.entries(line.counts)) this.#count.run(total, id, layer);
        return;
      case 'snapshot':
        return;
    }
  }
}
