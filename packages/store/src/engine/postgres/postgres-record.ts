import type { MemoryRecord } from '../../memory-record.js';
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
  };
}
