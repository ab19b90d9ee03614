import type { MemoryRecord, RememberedRecord, UpdateOutcome } from './memory-record.js';
import type { ValidArchiveSelector } from './validate-archive.js';
import type { ValidImportedRecord } from './validate-import.js';
import type { ValidRecordInput } from './validate-record.js';
import type { ValidRecordChanges } from './validate-update.js';
import type { ExpiredAction, MaintainChange, ValidArchivePolicy } from './lifecycle-policy.js';

/**
 * One change to the store. All changes of a process go through one queue, and the changes
 * that meet in it are applied in one transaction, in order: one lock and one commit per batch.
 */
export type WriteOperation =
  | { readonly kind: 'remember'; readonly input: ValidRecordInput }
  /** `within`: a scope's path; a record outside it is not forgotten (as if it did not exist). */
  | { readonly kind: 'forget'; readonly id: string; readonly within?: string }
  /**
   * A new version of the record with the id `target`, or else with the idempotency key `key`
   * (as stored: under the caller's scope), within the scope `within` if there is one. `at` is the
   * time of the call (epoch ms); `ifSeq`, the seq the record must still have.
   */
  | {
      readonly kind: 'update';
      readonly target: string;
      readonly key: string;
      readonly changes: ValidRecordChanges;
      readonly ifSeq?: number;
      readonly at: number;
      readonly within?: string;
    }
  | { readonly kind: 'archive'; readonly selector: ValidArchiveSelector }
  /**
   * One batch of maintain(): at most `limit` records that expired by `now` (archived or forgotten,
   * per `expired`) and, in what is left of the batch, `application` records that meet the policy
   * (archived), within the scope `within` if given.
   */
  | {
      readonly kind: 'maintain';
      readonly now: number;
      readonly expired: ExpiredAction;
      readonly policy?: ValidArchivePolicy;
      readonly limit: number;
      readonly within?: string;
    }
  /** archive -> application, by id: the way back from archive(). */
  | { readonly kind: 'restore'; readonly ids: readonly string[] }
  | { readonly kind: 'add-recall-counts'; readonly increments: ReadonlyMap<number, number> }
  /** A record from an export: written with its id, time, recall count and key, unless its id or key is in the store already. */
  | { readonly kind: 'import'; readonly record: ValidImportedRecord };

/**
 * What each operation gives back: remember, the record and whether it was written (the first one
 * for a known key, `created: false`); forget,
 * whether it existed; update, its outcome; maintain, a MaintainBatch; archive and restore, how many moved; add-recall-counts,
 * nothing; import, the record written, or null when its id or key was in the store already.
 */
export type WriteResult = RememberedRecord | MemoryRecord | UpdateOutcome | MaintainBatch | boolean | number | null | undefined;

/** What one maintain batch did; `more`: the batch was full, so another may find more. */
export interface MaintainBatch {
  readonly changes: readonly MaintainChange[];
  readonly more: boolean;
}

/** Whether a stored contextPath is inside a scope's path (`within`), or there is no scope. */
export function isWithin(contextPath: string, within: string | undefined): boolean {
  return within === undefined || within === '/' || contextPath === within || contextPath.startsWith(`${within}/`);
}
