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
