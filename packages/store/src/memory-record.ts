import type { RecordRow } from './engine/sqlite/sqlite-tables.js';

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

export function recordFromRow(row: RecordRow): MemoryRecord {
  return {
    id: row.id,
    seq: row.seq,
    content: row.content,
    tags: JSON.parse(row.tags) as string[],
    contextPath: row.context_path,
    layer: row.layer,
    createdAt: new Date(row.created_at).toISOString(),
    recallCount: row.recall_count,
    metadata: JSON.parse(row.metadata) as Record<string, unknown>,
    key: row.idempotency_key,
  };
}
