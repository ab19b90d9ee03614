import type { StoredRecord } from '../../changes/store-change.js';
import { storedRecordOfRow } from './sqlite-change-journal.js';
import type { MemoryRecord, RecordVersion } from '../../memory-record.js';
import type { RecordRow, RecordVersionsTable } from './sqlite-tables.js';

/** A row of `records` as the record callers get: tags and metadata parsed, the time as ISO 8601. */
export function recordFromRow(row: RecordRow): MemoryRecord {
  return recordOfStored(storedRecordOfRow(row));
}

/** A record as written (its tags and metadata still JSON text) as the record callers get. */
export function recordOfStored(stored: StoredRecord): MemoryRecord {
  return {
    id: stored.id,
    seq: stored.seq,
    content: stored.content,
    tags: JSON.parse(stored.tagsJson) as string[],
    contextPath: stored.contextPath,
    layer: stored.layer,
    createdAt: new Date(stored.createdAt).toISOString(),
    recallCount: stored.recallCount,
    metadata: JSON.parse(stored.metadataJson) as Record<string, unknown>,
    key: stored.key,
    ...(stored.updatedAt === null ? {} : { updatedAt: new Date(stored.updatedAt).toISOString() }),
    ...(stored.pinned ? { pinned: true as const } : {}),
    ...(stored.expiresAt === null ? {} : { expiresAt: new Date(stored.expiresAt).toISOString() }),
  };
}

/** A record's history: the versions updates replaced (oldest first), then the record as it is. */
export function historyOfRows(versions: readonly RecordVersionsTable[], current: RecordRow): RecordVersion[] {
  const history: RecordVersion[] = versions.map((version) => ({
    id: version.id,
    seq: version.seq,
    at: new Date(version.written_at).toISOString(),
    content: version.content,
    tags: JSON.parse(version.tags) as string[],
    contextPath: version.context_path,
    layer: version.layer,
    metadata: JSON.parse(version.metadata) as Record<string, unknown>,
  }));
  history.push({
    id: current.id,
    seq: current.seq,
    at: new Date(current.updated_at ?? current.created_at).toISOString(),
    content: current.content,
    tags: JSON.parse(current.tags) as string[],
    contextPath: current.context_path,
    layer: current.layer,
    metadata: JSON.parse(current.metadata) as Record<string, unknown>,
  });
  return history;
}
