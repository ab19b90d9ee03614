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
}

/**
 * What remember() and rememberMany() resolve with: the record, and whether this call wrote it.
 * `created: false` means its idempotency key was in the store already: the record is the one
 * first stored under the key (its content may differ from what was passed), and nothing was written.
 */
export interface RememberedRecord extends MemoryRecord {
  readonly created: boolean;
}
