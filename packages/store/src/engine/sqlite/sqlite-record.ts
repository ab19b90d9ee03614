import type { MemoryRecord } from '../../memory-record.js';
import type { RecordRow } from './sqlite-tables.js';

/** A row of `records` as the record callers get: tags and metadata parsed, the time as ISO 8601. */
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
