import type { MemoryRecord } from './memory-record.js';
import type { ValidArchiveSelector } from './validate-archive.js';
import type { ValidRecordInput } from './validate-record.js';

/**
 * One change to the store. All changes of a process go through one queue, and the changes
 * that meet in it are applied in one transaction, in order: one lock and one commit per batch.
 */
export type WriteOperation =
  | { readonly kind: 'remember'; readonly input: ValidRecordInput }
  | { readonly kind: 'forget'; readonly id: string }
  | { readonly kind: 'archive'; readonly selector: ValidArchiveSelector }
  | { readonly kind: 'add-recall-counts'; readonly increments: ReadonlyMap<number, number> };

/** What each operation gives back: the record, whether it existed, how many moved, nothing. */
export type WriteResult = MemoryRecord | boolean | number | undefined;
