import type { MemoryRecord, RecordVersion } from '../../memory-record.js';
import type { RecordRow } from './postgres-tables.js';
import { fromStoredText } from './postgres-text.js';

/** A row of `records` as the record callers get: the same MemoryRecord the SQLite engine gives. */
export function recordFromRow(row: RecordRow): MemoryRecord {
  return {
    id: row.id,
    seq: row.seq,
    content: fromStoredText(row.content),
    tags: row.tags,
    contextPath: row.context_path,
    layer: row.layer,
    createdAt: new Date(row.created_at).toISOString(),
    recallCount: row.recall_count,
    metadata: row.metadata,
    key: row.idempotency_key === null ? null : fromStoredText(row.idempotency_key),
    ...(row.updated_at === null ? {} : { updatedAt: new Date(row.updated_at).toISOString() }),
    ...(row.pinned ? { pinned: true as const } : {}),
    ...(row.expires_at === null ? {} : { expiresAt: new Date(row.expires_at).toISOString() }),
  };
}

/** A version as history() gives it, from a row of record_versions or of records (`at`: when it was written). */
export function versionFromRow(row: {
  readonly seq: number;
  readonly id: string;
  readonly layer: string;
  readonly content: string;
  readonly tags: string[];
  readonly context_path: string;
  readonly metadata: Record<string, unknown>;
  readonly at: number;
}): RecordVersion {
  return {
    id: row.id,
    seq: row.seq,
    at: new Date(row.at).toISOString(),
    content: fromStoredText(row.content),
    tags: row.tags,
    contextPath: row.context_path,
    layer: row.layer,
    metadata: row.metadata,
  };
}
