import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { StoreReplacedError } from '../errors.js';
import { hitFaultPoint } from '../fault-points.js';
import type { StoreLogger } from '../store-logger.js';
import { LAYER_PATTERN } from '../validate-record.js';
import type { LayerVerifyReport, VerifyProblem } from '../verify-report.js';
import { LayerFile } from './layer-file.js';
import type { IndexLookup } from './layer-index.js';
import { LayerMirror, type LayerMirrorCounters, type OwnChanges } from './layer-mirror.js';
import { mirrorLinesOf } from '../changes/change-codec.js';
import type { StoreChange } from '../changes/store-change.js';
import { parseMirrorLine, type EncodedLine } from './mirror-line.js';
import type { MirrorSource } from './mirror-source.js';

export interface JsonlMirrorOptions {
  /** The store's folder; the mirror lives in its `layers/` folder. */
  readonly dir: string;
  /** fdatasync each append (durability 'full'). */
  readonly syncAppends: boolean;
  readonly lockTimeoutMs: number;
  readonly allowUnsafeFilesystem: boolean;
  readonly logger: StoreLogger;
  /**
   * Whether memory.db at the store's path is still the database this store opened. Checked under
   * a layer's lock before its file is written: the mirror follows the commits in batches, and a
   * store whose folder was replaced meanwhile must not write its lines into the new store's files.
   */
  readonly sameDatabase: () => boolean;
}

/** One layer's mirror in stats(). */
export interface LayerMirrorStats extends LayerMirrorCounters {
  readonly layer: string;
  /** Size of `layers/<layer>.jsonl`, by stat. */
  readonly bytes: number;
}

/** One commit's lines of a layer, owed to its file: the store's last seq before the commit, the commit's last seq, the lines. */
interface OwedSegment {
  readonly startSeq: number;
  readonly endSeq: number;
  readonly lines: readonly EncodedLine[];
}

export const LAYERS_FOLDER = 'layers';
/** Journal rows are pruned once a layer's file has moved this many seqs past the last pruning. */
const PRUNE_EVERY_SEQS = 256;

/**
 * The store's JSONL mirror: one file per layer in `layers/`, each derived from the database by
 * seq. The writing process appends the changes of the layers it touched after its callers are
 * resolved, in batches (under each layer's writer lock); on open, every layer is caught up, which
 * also heals a writer that crashed between its COMMIT and its append, and a torn last line.
 *
 * The mirror is a view that can catch up later: the journal keeps every change until it is in
 * the file. So the catch-ups that nobody waits for (the batched appends, on open, on close) wait for a
 * layer's lock only briefly (APPEND_LOCK_WAIT_MS) and otherwise leave the lines to whoever comes
 * next; verify, repair and lookups, which need the file as it is, wait up to `lockTimeoutMs` and
 * catch it up first.
 */
export class JsonlMirror {
  readonly folder: string;
  readonly #options: JsonlMirrorOptions;
  readonly #source: MirrorSource;
  readonly #layers = new Map<string, LayerMirror>();
  readonly #lastPruned = new Map<string, number>();
  /** Per layer, the lines of this process's commits not appended yet, a segment per commit (see owe()). */
  #owed = new Map<string, OwedSegment[]>();
  #owedLines = 0;
  /** Per layer, the failure last reported to the logger: the same one is not reported again until a catch-up succeeds. */
  readonly #reportedFailures = new Map<string, string>();

  constructor(options: JsonlMirrorOptions, source: MirrorSource) {
    this.#options = options;
    this.#source = source;
    this.folder = join(options.dir, LAYERS_FOLDER);
    mkdirSync(this.folder, { recursive: true });
  }

  /**
   * After a commit, once its callers are resolved: notes the touched layers' new lines as owed to
   * their files, to be appended by appendOwed() in a batch with the commits that follow (see
   * SharedCommit, which calls it by size and by time, and on flush() and close()). Nothing is lost
   * meanwhile: the journal keeps every change until its file has it, and whoever comes next (an
   * append, open, verify or lookup) brings a file up to date. Returns the lines owed in all.
   */
  owe(layers: ReadonlySet<string>, own: { readonly startSeq: number; readonly changes: readonly StoreChange[] }): number {
    for (const name of layers) {
      this.#layer(name);
      const segments = this.#owed.get(name) ?? [];
      const lines = mirrorLinesOf(own.changes, name);
      // A change without a line in this layer still leaves its file behind the journal: caught up from it.
      segments.push({ startSeq: own.startSeq, endSeq: own.changes[own.changes.length - 1]?.seq ?? own.startSeq, lines });
      this.#owed.set(name, segments);
      this.#owedLines += lines.length;
    }
    return this.#owedLines;
  }

  /**
   * Appends the lines owed to each layer (and anything else its file lacks). The owed commits' own
   * lines are appended as they are when no other process changed the layer between them (the
   * usual case); otherwise the journal is read back from the file's end. Never throws (see
   * #catchUpUnlessHeld).
   */
  async appendOwed(): Promise<void> {
    const owed = this.#owed;
    if (owed.size > 0) hitFaultPoint('mirror-before-append');
    this.#owed = new Map();
    this.#owedLines = 0;
    for (const [name, segments] of owed) {
      let own: OwnChanges | undefined;
      try {
        own = this.#contiguous(name, segments);
      } catch {
        // The journal could not be asked (the database busy, say): the catch-up reads it instead, or reports why not.
        own = undefined;
      }
      await this.#catchUpUnlessHeld(name, 'memhub mirror append', own);
    }
  }

  /** The segments as one run of lines, if nothing of the layer came between them (else undefined: read the journal). */
  #contiguous(name: string, segments: readonly OwedSegment[]): OwnChanges | undefined {
    const first = segments[0];
    if (first === undefined || segments.some((segment) => segment.lines.length === 0)) return undefined;
    const lines: EncodedLine[] = [...first.lines];
    for (let index = 1; index < segments.length; index += 1) {
      const segment = segments[index] as OwedSegment;
      // Right after the previous commit (no commit of any process between): nothing to look up.
      if (segment.startSeq !== (segments[index - 1] as OwedSegment).endSeq) {
        const lastSeq = (lines[lines.length - 1] as EncodedLine).seq;
        if (segment.startSeq < lastSeq || this.#source.hasChangesBetween(name, lastSeq, segment.startSeq)) return undefined;
      }
      lines.push(...segment.lines);
    }
    return { startSeq: first.startSeq, lines };
  }

  /**
   * On open: every mirrored layer (with records, with changes waiting, or with a file) caught up.
   * A layer that cannot be (its writer lock held past APPEND_LOCK_WAIT_MS, by a frozen process
   * say; a full disk) is left for the next one, and reported: the store opens all the same. A
   * symlink among a layer's files is refused here (StoreSymlinkError), and the store does not open.
   */
  async catchUpAll(): Promise<void> {
    const names = this.#knownLayers();
    for (const name of names) this.#layer(name);
    for (const name of names) await this.#catchUpUnlessHeld(name, 'memhub mirror catch-up on open');
  }

  /**
   * flush() and close() of a process whose writes another process committed (the write leader,
   * which appends their lines in its next batch, moments later): every mirrored layer with changes
   * in the journal brought up to date now, so that the files have this process's writes when
   * flush() resolves. Never throws (see #catchUpUnlessHeld).
   */
  async catchUpJournal(purpose: string): Promise<void> {
    let names: string[];
    try {
      names = this.#source.layersWithChanges().filter((name) => this.#source.isMirrored(name));
    } catch (error) {
      this.#options.logger.warn({ error: String(error) }, 'memhub: could not read which layer mirrors are behind; they are caught up later');
      return;
    }
    for (const name of names.sort()) await this.#catchUpUnlessHeld(name, purpose);
  }

  /**
   * Layers whose file has moved well past the last pruning: layer -> seq through which their
   * journal rows are in the file. The engine prunes them in its next transaction and reports
   * back with pruned().
   */
  prunable(): ReadonlyMap<string, number> {
    const prunable = new Map<string, number>();
    for (const [name, layer] of this.#layers) {
      if (layer.appendedThrough - (this.#lastPruned.get(name) ?? 0) >= PRUNE_EVERY_SEQS) prunable.set(name, layer.appendedThrough);
    }
    return prunable;
  }

  pruned(pruned: ReadonlyMap<string, number>): void {
    for (const [name, seq] of pruned) this.#lastPruned.set(name, seq);
  }

  /** Verifies every mirrored layer; see LayerMirror.verify(). */
  async verify(): Promise<{ readonly layers: LayerVerifyReport[]; readonly problems: VerifyProblem[] }> {
    const layers: LayerVerifyReport[] = [];
    for (const name of this.#knownLayers()) {
      const layer = this.#layer(name);
      layers.push(await layer.locked('memhub mirror verify', () => layer.verify(this.#source)));
    }
    return { layers, problems: layers.flatMap(problemsOf) };
  }

  /** Rebuilds every layer whose verify() found a problem, and brings every index up to date. */
  async repair(): Promise<string[]> {
    const actions: string[] = [];
    for (const name of this.#knownLayers()) {
      const layer = this.#layer(name);
      actions.push(
        ...(await layer.locked('memhub mirror repair', () => {
          const report = layer.verify(this.#source);
          if (problemsOf(report).length > 0) return layer.repair(this.#source);
          layer.updateIndex();
          return [];
        })),
      );
    }
    return actions;
  }

  /**
   * The record's latest line in a layer file, through the layer's index, after catching the file
   * up (a writer may have left its lines to whoever comes next).
   */
  async lookup(layerName: string, id: string): Promise<IndexLookup> {
    const layer = this.#layer(layerName);
    return layer.locked('memhub mirror lookup', () => {
      layer.catchUp(this.#source);
      return layer.lookup(id);
    });
  }

  stats(): LayerMirrorStats[] {
    return [...this.#layers.values()].map((layer) => ({
      layer: layer.layer,
      bytes: statSync(layer.file.path, { throwIfNoEntry: false })?.size ?? 0,
      ...layer.counters,
    }));
  }

  /**
   * Catches up the layers this process used and brings their indexes up to date, each only if
   * its lock can be had within APPEND_LOCK_WAIT_MS (a frozen holder must not hold up a close; the
   * next holder does it), then closes every file and lock. Failures are reported, not thrown.
   */
  async close(): Promise<void> {
    try {
      for (const [name, layer] of this.#layers) {
        await this.#catchUpUnlessHeld(name, 'memhub mirror close', undefined, () => layer.flushIndex());
      }
    } finally {
      for (const layer of this.#layers.values()) layer.close();
      this.#layers.clear();
    }
  }

  /**
   * Catches the layer up (then runs `andThen`) under its lock if it can be had within
   * APPEND_LOCK_WAIT_MS. Never throws: a failure is reported to the logger, once until the layer
   * is caught up again.
   */
  async #catchUpUnlessHeld(name: string, purpose: string, own?: OwnChanges, andThen?: () => void): Promise<void> {
    try {
      // Checked first without the lock as well: a store whose folder was replaced must not open,
      // create or lock the new folder's layer files at all (the check under the lock stays, for
      // a folder replaced while this waits for it).
      if (!this.#options.sameDatabase()) throw new StoreReplacedError(join(this.#options.dir, 'memory.db'));
      const layer = this.#layer(name);
      const ran = await layer.lockedUnlessHeld(purpose, () => {
        if (!this.#options.sameDatabase()) throw new StoreReplacedError(join(this.#options.dir, 'memory.db'));
        layer.catchUp(this.#source, own);
        andThen?.();
      });
      if (ran) this.#reportedFailures.delete(name);
    } catch (error) {
      const failure = String(error);
      if (this.#reportedFailures.get(name) === failure) return;
      this.#reportedFailures.set(name, failure);
      this.#options.logger.warn(
        { layer: name, error: failure },
        'memhub: could not append to a layer mirror; it will be caught up later (reported once until it is)',
      );
    }
  }

  #layer(name: string): LayerMirror {
    let layer = this.#layers.get(name);
    if (layer === undefined) {
      layer = new LayerMirror({ ...this.#options, folder: this.folder, layer: name });
      this.#layers.set(name, layer);
    }
    return layer;
  }

  /** Mirrored layers with records, with journal rows waiting, or with a file in `layers/`. */
  #knownLayers(): string[] {
    const names = new Set([...this.#source.layersWithRecords(), ...this.#source.layersWithChanges(), ...layerFilesIn(this.folder)]);
    return [...names].filter((name) => this.#source.isMirrored(name)).sort();
  }
}

/** Layer names that have a `<layer>.jsonl` file in the folder. */
export function layerFilesIn(folder: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(folder);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return entries
    .filter((entry) => entry.endsWith('.jsonl'))
    .map((entry) => entry.slice(0, -'.jsonl'.length))
    .filter((name) => LAYER_PATTERN.test(name));
}

/**
 * The highest seq in any layer file's last complete line, read without taking the layer locks:
 * used on open, under the database's write lock, so that the store's counter never hands out a
 * seq a mirror file already has (a database restored from an older backup, say).
 */
export function highestSeqInLayerFiles(dir: string): number {
  const folder = join(dir, LAYERS_FOLDER);
  let highest = 0;
  for (const name of layerFilesIn(folder)) {
    const file = new LayerFile(join(folder, `${name}.jsonl`));
    try {
      for (let line = file.tail().lastLine; line !== undefined; line = file.lineBefore(line.offset)) {
        try {
          highest = Math.max(highest, parseMirrorLine(line.text).seq);
          break;
        } catch {
          // not a mirror line: look further up
        }
      }
    } finally {
      file.close();
    }
  }
  return highest;
}

/** A layer report's problems, in words. */
function problemsOf(report: LayerVerifyReport): VerifyProblem[] {
  const problems: VerifyProblem[] = [];
  const layer = report.layer;
  const some = (ids: readonly string[]) => ids.slice(0, 5).join(', ');
  if (report.missingCount > 0) {
    problems.push({ kind: 'mirror-missing', layer, message: `${report.missingCount} record(s) of layer ${layer} are not in its mirror, e.g. ${some(report.missing)}` });
  }
  if (report.extraCount > 0) {
    problems.push({ kind: 'mirror-extra', layer, message: `${report.extraCount} record(s) in the mirror of layer ${layer} are not in the database, e.g. ${some(report.extra)}` });
  }
  if (report.differentCount > 0) {
    problems.push({
      kind: 'mirror-different',
      layer,
      message: `${report.differentCount} record(s) of layer ${layer} differ between the database and the mirror, e.g. ${some(report.different)}`,
    });
  }
  for (const bad of report.badLines.slice(0, 10)) {
    problems.push({ kind: 'mirror-bad-line', layer, message: `${report.file} line ${bad.lineNumber} (byte ${bad.offset}): ${bad.reason}` });
  }
  if (report.badLineCount > 10) {
    problems.push({ kind: 'mirror-bad-line', layer, message: `${report.file}: ${report.badLineCount - 10} more line(s) that are not mirror lines` });
  }
  if (report.outOfOrder > 0) {
    problems.push({ kind: 'mirror-order', layer, message: `${report.file}: ${report.outOfOrder} line(s) whose seq is not above the line before` });
  }
  if (report.tornTail !== null) {
    problems.push({ kind: 'mirror-torn-tail', layer, message: `${report.file} ends with ${report.tornTail.bytes} byte(s) of a torn line at byte ${report.tornTail.offset}` });
  }
  if (!report.index.ok) problems.push({ kind: 'mirror-index', layer, message: `${report.file}: ${report.index.problem ?? 'index problem'}` });
  return problems;
}
