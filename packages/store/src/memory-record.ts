/** A stored memory, as remember(), get() and recall() return it. */
export interface MemoryRecord {
  readonly id: string;
  /** Position in the store's one write order: increasing, never reused. */
  readonly seq: number;
  readonly content: string;
  readonly tags: readonly string[];
  readonly contextPath: string;
  readonly layer: string;
  /** ISO 8601. */
  readonly createdAt: string;
  readonly recallCount: number;
  readonly metadata: Readonly<Record<string, unknown>>;
  /** The idempotency key it was remembered with, if any. */
  readonly key: string | null;
  /** ISO 8601: when its current version was written by update(); absent on a record never updated. */
  readonly updatedAt?: string;
  /** Present (true) on a pinned record: first in recall, never archived by a policy. */
  readonly pinned?: true;
  /** ISO 8601: when it expires (not recalled after, archived or forgotten by maintain()); absent if never. */
  readonly expiresAt?: string;
}

/**
 * What remember() and rememberMany() resolve with: the record, and whether this call wrote it.
 * `created: false` means its idempotency key was in the store already: the record is the one
 * first stored under the key (its content may differ from what was passed), and nothing was written.
 */
export interface RememberedRecord extends MemoryRecord {
  readonly created: boolean;
}

/**
 * One version of a record, as history() returns it: what the record held from `at` until the
 * next version (the last one is the record as it is now). `seq` is the version's place in the
 * store's write order: the record's seq while the version was current.
 */
export interface RecordVersion {
  readonly id: string;
  readonly seq: number;
  /** ISO 8601: when this version was written (the record's createdAt for the first one). */
  readonly at: string;
  readonly content: string;
  readonly tags: readonly string[];
  readonly contextPath: string;
  readonly layer: string;
  readonly metadata: Readonly<Record<string, unknown>>;
}

/**
 * What an update operation did, as an engine reports it: the record's new version; or, for an
 * update with `ifSeq`, the seq the record had instead (someone else wrote first: nothing was
 * written); or that no record has that id or key (in the caller's scope).
 */
export type UpdateOutcome =
  | { readonly outcome: 'updated'; readonly record: MemoryRecord }
  | { readonly outcome: 'conflict'; readonly id: string; readonly currentSeq: number }
  | { readonly outcome: 'missing' };
