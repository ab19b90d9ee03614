import type { MemoryRecord, RememberedRecord } from './memory-record.js';
import type { ValidArchiveSelector } from './validate-archive.js';
import type { ValidImportedRecord } from './validate-import.js';
import type { ValidRecordInput } from './validate-record.js';

/**
 * One change to the store. All changes of a process go through one queue, and the changes
 * that meet in it are applied in one transaction, in order: one lock and one commit per batch.
 */
export type WriteOperation =
  | { readonly kind: 'remember'; readonly input: ValidRecordInput }
  | { readonly kind: 'forget'; readonly id: string }
  | { readonly kind: 'archive'; readonly selector: ValidArchiveSelector }
  /** archive -> application, by id: the way back from archive(). */
  | { readonly kind: 'restore'; readonly ids: readonly string[] }
  | { readonly kind: 'add-recall-counts'; readonly increments: ReadonlyMap<number, number> }
  /** A record from an export: written with its id, time, recall count and key, unless its id or key is in the store already. */
  | { readonly kind: 'import'; readonly record: ValidImportedRecord };

/**
 * What each operation gives back: remember, the record and whether it was written (the first one
 * for a known key, `created: false`); forget,
 * whether it existed; archive and restore, how many moved; add-recall-counts, nothing; import, the record
 * written, or null when its id or key was in the store already.
 */
export type WriteResult = RememberedRecord | MemoryRecord | boolean | number | null | undefined;
