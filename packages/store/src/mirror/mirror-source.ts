import type { MemoryRecord } from '../memory-record.js';
import type { EncodedLine } from './mirror-line.js';

/** A page of a layer's changes. */
export interface ChangesPage {
  /** The lines to append. A change whose record is gone since (moved in, then forgotten) has none. */
  readonly lines: readonly EncodedLine[];
  /** The seq of the last change read, with or without a line: where the next page starts. */
  readonly lastSeq: number;
  /** Whether the page holds every change that was left (fewer than asked for). */
  readonly complete: boolean;
}

/**
 * What the mirror reads from the database, the source of truth. The SQLite engine implements it
 * (engine/sqlite/sqlite-mirror-source.ts). Every method is synchronous, so that a whole catch-up
 * runs inside the layer's writer lock without an await.
 */
export interface MirrorSource {
  /** The layer's next `limit` changes with a seq above `afterSeq`, as lines to append, in seq order. */
  changesAfter(layer: string, afterSeq: number, limit: number): ChangesPage;
  /** Whether the layer has changes after `after` and up to `upTo` in the journal. */
  hasChangesBetween(layer: string, after: number, upTo: number): boolean;
  /** The seq up to which the layer's journal was pruned: a file ending before it has lost lines. */
  prunedThrough(layer: string): number;
  /** The seq of the store's latest change. */
  lastSeq(): number;
  /** The layer's current records in seq order, read a page at a time. */
  layerRecords(layer: string): Iterable<MemoryRecord>;
  /** The same records as `remember` lines, for rewriting the layer's file. */
  snapshotLines(layer: string): Iterable<EncodedLine>;
  /** Runs `read` in one read transaction: everything it reads is one snapshot of the database. */
  inReadTransaction<T>(read: () => T): T;
  /** Layers with journal rows waiting to be appended. */
  layersWithChanges(): readonly string[];
  /** Layers that hold records. */
  layersWithRecords(): readonly string[];
  /** Whether a layer is mirrored (the store's `mirror` setting). */
  isMirrored(layer: string): boolean;
}
