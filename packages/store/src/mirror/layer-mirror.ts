import { join } from 'node:path';
import type { StoreLogger } from '../store-logger.js';
import type { LayerVerifyReport } from '../verify-report.js';
import { hitFaultPoint } from '../fault-points.js';
import { PageSizer } from '../page-sizer.js';
import { LayerFile } from './layer-file.js';
import { LayerIndex, type IndexEntry, type IndexLookup } from './layer-index.js';
import { LayerLock } from './layer-lock.js';
import { encodeLine, parseMirrorLine, type EncodedLine } from './mirror-line.js';
import type { MirrorSource } from './mirror-source.js';
import { MirrorReplay, recordDigest } from './mirror-replay.js';
import { quarantine, quarantinedCount } from './quarantine.js';
import { refuseSymlink } from './refuse-symlinks.js';

export interface LayerMirrorOptions {
  /** The store's `layers/` folder. */
  readonly folder: string;
  readonly layer: string;
  /** fdatasync after every append (durability 'full'). */
  readonly syncAppends: boolean;
  readonly lockTimeoutMs: number;
  readonly allowUnsafeFilesystem: boolean;
  readonly logger: StoreLogger;
}

/** This process's counters for one layer, for stats() and tests. */
export interface LayerMirrorCounters {
  readonly linesAppended: number;
  readonly appends: number;
  readonly indexUpdates: number;
  readonly indexRebuilds: number;
  readonly snapshots: number;
  readonly tornTailsQuarantined: number;
  /**
   * Catch-ups (after a commit, on open, on close) that left their lines to the next holder of the
   * layer's lock, because another process held it past APPEND_LOCK_WAIT_MS (layer-lock.ts).
   */
  readonly appendsDeferred: number;
}

/**
 * The index is brought up to date once this process has appended this many lines, this many
 * bytes, or its oldest unindexed line is this old (checked at each append), and on close.
 */
const INDEX_EVERY_LINES = 1_000;
const INDEX_EVERY_BYTES = 4 * 1024 * 1024;
const INDEX_EVERY_MS = 2_000;
/** Snapshot lines written per append while rebuilding. */
const REBUILD_CHUNK_BYTES = 1024 * 1024;
/** At most this many ids and bad lines are listed in a verify report (all are counted). */
const REPORT_LIMIT = 100;

/**
 * Where this process last saw the file end. Only a cache of this process, for this open file:
 * the inode tells whether the descriptor is still the file it looked at (nothing persisted
 * relies on it; the index names the file by its content, see layer-index.ts).
 */
interface Cursor {
  readonly ino: number;
  readonly size: number;
  /** The seq of the file's last line: everything up to it is in the file. */
  readonly seq: number;
}

/**
 * The lines of one committed transaction for this layer, built by the writer from what it wrote,
 * and the store's last seq before that transaction. When the file already holds every change up
 * to that seq, these are exactly the lines to append, and the journal need not be read back.
 */
export interface OwnChanges {
  readonly startSeq: number;
  readonly lines: readonly EncodedLine[];
}

/** Lines this process appended since the index was last brought up to date, as index entries. */
interface PendingEntries {
  readonly from: number;
  to: number;
  lines: number;
  readonly entries: IndexEntry[];
  readonly since: number;
}

/**
 * One layer's JSONL mirror, `layers/<layer>.jsonl`, as this process sees it: its writer lock
 * (`<layer>.jsonl.lock`), its file, its index, and where the file ends.
 *
 * Everything that touches the file happens under the writer lock, synchronously once the lock
 * is held (waiting for it never blocks the event loop). The file's last line says how far the
 * mirror is; the database's journal has every change after that, so whichever process comes
 * next appends what is missing, in seq order, exactly once. That is also why a writer may leave
 * its lines to the next holder when the lock is held too long (lockedUnlessHeld).
 *
 * The three files are refused if they are symlinks (StoreSymlinkError), here when the mirror is
 * made and again wherever one is opened: writing through a link would write somewhere else.
 */
export class LayerMirror {
  readonly layer: string;
  readonly file: LayerFile;
  readonly #index: LayerIndex;
  readonly #lock: LayerLock;
  readonly #options: LayerMirrorOptions;
  #cursor: Cursor | undefined;
  #pending: PendingEntries | undefined;
  /** The last seq this process saw in the file (for pruning the journal). */
  appendedThrough = 0;
  #counters = { linesAppended: 0, appends: 0, snapshots: 0, tornTailsQuarantined: 0 };

  constructor(options: LayerMirrorOptions) {
    this.#options = options;
    this.layer = options.layer;
    const path = join(options.folder, `${options.layer}.jsonl`);
    const indexPath = join(options.folder, `${options.layer}.idx`);
    refuseSymlink(path);
    refuseSymlink(indexPath);
    this.file = new LayerFile(path);
    this.#index = new LayerIndex(indexPath);
    this.#lock = new LayerLock({
      path: `${path}.lock`,
      layer: options.layer,
      lockTimeoutMs: options.lockTimeoutMs,
      allowUnsafeFilesystem: options.allowUnsafeFilesystem,
      logger: options.logger,
    });
  }

  get counters(): LayerMirrorCounters {
    return { ...this.#counters, indexUpdates: this.#index.updates, indexRebuilds: this.#index.rebuilds, appendsDeferred: this.#lock.giveUps };
  }

  /** Runs `work` synchronously under this layer's writer lock, waiting for it up to `lockTimeoutMs`. */
  async locked<T>(purpose: string, work: () => T): Promise<T> {
    return this.#lock.locked(purpose, work);
  }

  /**
   * Runs `work` under the writer lock if it can be had within APPEND_LOCK_WAIT_MS; else does
   * nothing (counted in `appendsDeferred`, reported once per hold). Resolves with whether it ran.
   * For catch-ups that whoever comes next can do as well: the journal keeps every change until
   * it is in the file.
   */
  async lockedUnlessHeld(purpose: string, work: () => void): Promise<boolean> {
    return (await this.#lock.lockedUnlessHeld(purpose, work)) !== undefined;
  }

  /**
   * Under the lock: appends every change the file does not have yet. A torn last line is cut off
   * (and quarantined) first; a file that lost lines the journal no longer has is rebuilt. With
   * `own`, the committing process's lines: appended as they are when nothing else is missing
   * before them (the usual case), else the journal is read back from the file's end.
   */
  catchUp(source: MirrorSource, own?: OwnChanges): void {
    const { cursor, reread } = this.#inspect();
    // An empty file (new, or made again after it was deleted) has nothing an index could cover: an
    // index left from the file it replaces is emptied before the journal's lines go in, as a
    // rebuild empties it, so that it never describes another file's lines.
    if (reread && cursor.size === 0) {
      this.#index.reset();
      this.#pending = undefined;
    }
    // Only a file that changed under us can have lost lines: an unchanged one is as we left it.
    if (reread) {
      const prunedThrough = source.prunedThrough(this.layer);
      if (cursor.seq < prunedThrough) {
        this.#options.logger.warn(
          { layer: this.layer, fileEndsAt: cursor.seq, prunedThrough },
          'memhub: a layer mirror lost lines that are no longer in the journal; rebuilding it from the database',
        );
        this.rebuild(source);
        return;
      }
    }
    const last = own?.lines[own.lines.length - 1];
    if (own !== undefined && last !== undefined) {
      if (cursor.seq >= last.seq) {
        // Another process appended them already.
        this.appendedThrough = cursor.seq;
        return;
      }
      if (cursor.seq <= own.startSeq && (cursor.seq === own.startSeq || !source.hasChangesBetween(this.layer, cursor.seq, own.startSeq))) {
        this.#append(own.lines);
        this.#finishAppend();
        return;
      }
    }
    let appended = false;
    const pages = new PageSizer();
    let after = this.#cursor?.seq ?? 0;
    for (;;) {
      const page = source.changesAfter(this.layer, after, pages.size);
      pages.measured(page.lines.length, page.lines.reduce((chars, line) => chars + line.text.length, 0));
      if (page.lines.length > 0) {
        this.#append(page.lines);
        appended = true;
      }
      if (page.complete) break;
      after = page.lastSeq;
    }
    if (appended) this.#finishAppend();
    else this.appendedThrough = this.#cursor?.seq ?? 0;
  }

  /** After an append: durable if so asked, noted for pruning, and maybe indexed. */
  #finishAppend(): void {
    if (this.#options.syncAppends) this.file.sync();
    this.appendedThrough = this.#cursor?.seq ?? 0;
    this.#maybeUpdateIndex();
  }

  /**
   * Under the lock: rewrites the file, in place, from the database: a `remember` line for each of
   * the layer's records, then a `snapshot` line with the store's last seq. Read in one snapshot of
   * the database, so the file is exactly the layer as of that seq.
   */
  rebuild(source: MirrorSource): void {
    this.file.truncate(0);
    this.#index.reset();
    hitFaultPoint('mirror-before-rebuild');
    this.#cursor = { ...this.file.stat(), seq: 0 };
    this.#pending = undefined;
    source.inReadTransaction(() => {
      const lastSeq = source.lastSeq();
      let chunk: EncodedLine[] = [];
      let chunkBytes = 0;
      let records = 0;
      let lastRecordSeq = 0;
      for (const line of source.snapshotLines(this.layer)) {
        lastRecordSeq = line.seq;
        chunk.push(line);
        chunkBytes += line.text.length;
        records += 1;
        if (chunkBytes >= REBUILD_CHUNK_BYTES) {
          this.#append(chunk);
          chunk = [];
          chunkBytes = 0;
        }
      }
      // The snapshot line says how far the file is, when its last record line does not already.
      if (lastSeq > lastRecordSeq) chunk.push(encodeLine({ v: 1, seq: lastSeq, op: 'snapshot', records }));
      hitFaultPoint('mirror-mid-rebuild', () => this.#append(chunk.slice(0, chunk.length >> 1)));
      if (chunk.length > 0) this.#append(chunk);
    });
    if (this.#options.syncAppends) this.file.sync();
    this.appendedThrough = this.#cursor.seq;
    this.#counters.snapshots += 1;
    this.updateIndex();
  }

  /** Under the lock: brings the index up to the end of the file. */
  updateIndex(): void {
    hitFaultPoint('mirror-before-index');
    this.#index.update(this.file, this.#pending);
    this.#pending = undefined;
  }

  /** Under the lock: the record's latest line, found through the index. */
  lookup(id: string): IndexLookup {
    return this.#index.lookup(this.file, id);
  }

  /**
   * Under the lock, inside one read transaction of the database: catches the file up, then
   * replays it line by line and compares the result with the layer's records.
   */
  verify(source: MirrorSource): LayerVerifyReport {
    return source.inReadTransaction(() => {
      this.catchUp(source);
      const replay = new MirrorReplay(this.layer);
      this.file.forEachLine(0, this.#cursor?.size ?? 0, (offset, length, text) => replay.feed(text, offset, length));
      const tail = this.file.tail();
      const missing: string[] = [];
      const different: string[] = [];
      let records = 0;
      for (const record of source.layerRecords(this.layer)) {
        records += 1;
        const mirrored = replay.records.get(record.id);
        if (mirrored === undefined) {
          missing.push(record.id);
          continue;
        }
        replay.records.delete(record.id);
        if (mirrored.recallCount !== record.recallCount || mirrored.digest !== recordDigest(record, this.layer)) different.push(record.id);
      }
      const extra = [...replay.records.keys()];
      return {
        layer: this.layer,
        file: this.file.path,
        records,
        mirrored: records - missing.length + extra.length,
        missing: missing.slice(0, REPORT_LIMIT),
        extra: extra.slice(0, REPORT_LIMIT),
        different: different.slice(0, REPORT_LIMIT),
        missingCount: missing.length,
        extraCount: extra.length,
        differentCount: different.length,
        badLines: replay.badLines.slice(0, REPORT_LIMIT),
        badLineCount: replay.badLines.length,
        outOfOrder: replay.outOfOrder,
        tornTail: tail.torn === undefined ? null : { offset: tail.torn.offset, bytes: tail.torn.bytes.length },
        quarantined: quarantinedCount(this.file.path),
        index: this.#index.check(this.file),
      };
    });
  }

  /**
   * Under the lock: makes the file match the database again. Lines that are not mirror lines are
   * quarantined first (nothing is thrown away unseen), then the file is rebuilt and re-indexed.
   */
  repair(source: MirrorSource): string[] {
    const actions: string[] = [];
    const replay = new MirrorReplay(this.layer);
    const { size } = this.file.stat();
    this.file.forEachLine(0, size, (offset, length, text) => {
      if (!replay.feed(text, offset, length)) {
        quarantine(this.file.path, offset, Buffer.from(text, 'utf8'), 'not a valid mirror line (repair)');
      }
    });
    if (replay.badLines.length > 0) actions.push(`${this.layer}: quarantined ${replay.badLines.length} line(s) that were not mirror lines`);
    this.rebuild(source);
    actions.push(`${this.layer}: rebuilt ${this.file.path} from the database`);
    return actions;
  }

  /** Under the lock: the index up to date (on close). */
  flushIndex(): void {
    if (this.#pending !== undefined) this.updateIndex();
  }

  close(): void {
    this.#lock.close();
    this.file.close();
    this.#index.close();
  }

  /**
   * Where the file ends, and the seq of its last line. Cached by inode and size: when another
   * process appended (the size changed), the tail is read again. A torn last line is cut off
   * here, before anything is appended after it, and kept in the quarantine file.
   */
  #inspect(): { readonly cursor: Cursor; readonly reread: boolean } {
    if (this.file.followPath()) {
      this.#cursor = undefined;
      this.#pending = undefined;
    }
    const { ino, size } = this.file.stat();
    const cached = this.#cursor;
    if (cached !== undefined && cached.ino === ino && cached.size === size) return { cursor: cached, reread: false };
    // Another file than the one last looked at (the old one was refused or vanished): what this
    // process noted for the index was about the old one.
    if (cached !== undefined && cached.ino !== ino) this.#pending = undefined;
    const tail = this.file.tail();
    let end = tail.size;
    if (tail.torn !== undefined) {
      quarantine(this.file.path, tail.torn.offset, tail.torn.bytes, 'torn last line (a crash while appending)');
      this.file.truncate(tail.torn.offset);
      end = tail.torn.offset;
      this.#counters.tornTailsQuarantined += 1;
      this.#pending = undefined;
      this.#options.logger.warn(
        { layer: this.layer, offset: tail.torn.offset, bytes: tail.torn.bytes.length },
        'memhub: cut a torn last line off a layer mirror and moved it to its quarantine file',
      );
    }
    // The last line that is a mirror line says how far the file is. Lines after it that are not
    // mirror lines stay where they are: verify() reports them, repair() quarantines them.
    let seq = 0;
    for (let line = tail.lastLine; line !== undefined; line = this.file.lineBefore(line.offset)) {
      try {
        seq = parseMirrorLine(line.text).seq;
        break;
      } catch {
        // keep looking further up
      }
    }
    this.#cursor = { ino, size: end, seq };
    return { cursor: this.#cursor, reread: true };
  }

  /** Appends the lines with one write, and notes their index entries. */
  #append(lines: readonly EncodedLine[]): void {
    const bytes = Buffer.from(lines.map((line) => line.text).join(''), 'utf8');
    const cursor = this.#cursor ?? this.#inspect().cursor;
    const from = cursor.size;
    hitFaultPoint('mirror-mid-append', () => {
      // Half the batch, ending inside a line.
      const half = Math.floor(bytes.length / 2);
      this.file.append(bytes.subarray(0, bytes[half - 1] === 0x0a ? half - 1 : half));
    });
    try {
      this.file.append(bytes);
    } catch (error) {
      // Part of it may be in the file: read the tail again next time (it is torn, or whole).
      this.#cursor = undefined;
      this.#pending = undefined;
      throw error;
    }
    const last = lines[lines.length - 1] as EncodedLine;
    this.#cursor = { ino: cursor.ino, size: from + bytes.length, seq: last.seq };
    this.#counters.linesAppended += lines.length;
    this.#counters.appends += 1;
    // A run of lines that continues the previous one extends it; otherwise another process appended
    // in between, and the index update will read those lines from the file.
    if (this.#pending === undefined || this.#pending.to !== from) this.#pending = { from, to: from, lines: 0, entries: [], since: Date.now() };
    let offset = from;
    for (const line of lines) {
      const length = Buffer.byteLength(line.text, 'utf8') - 1;
      if (line.recordId !== undefined) this.#pending.entries.push({ id: line.recordId, seq: line.seq, offset, length, op: line.op });
      offset += length + 1;
    }
    this.#pending.to = offset;
    this.#pending.lines += lines.length;
  }

  #maybeUpdateIndex(): void {
    const pending = this.#pending;
    if (pending === undefined) return;
    if (pending.lines >= INDEX_EVERY_LINES || pending.to - pending.from >= INDEX_EVERY_BYTES || Date.now() - pending.since >= INDEX_EVERY_MS) {
      this.updateIndex();
    }
  }
}
