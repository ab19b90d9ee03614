import type { MemoryRecord } from './memory-record.js';

/** Version of the one-record-a-line format of export() and import() (field `v`). */
export const RECORD_LINE_VERSION = 1;

/**
 * One record as a line of NDJSON: `{"v":1,"id":...,"seq":...,"content":...}` and `\n` (never
 * os.EOL). The fields are MemoryRecord's, in its order, so a line reads the same whichever engine
 * wrote it. Strings are written by JSON.stringify, which escapes every control character and lone
 * surrogate: a line never holds a raw newline.
 */
export function recordLine(record: MemoryRecord): string {
  return `${JSON.stringify({ v: RECORD_LINE_VERSION, ...recordFields(record) })}\n`;
}

/** The record's fields in a fixed order, as plain JSON values. */
export function recordFields(record: MemoryRecord): Omit<MemoryRecord, never> {
  return {
    id: record.id,
    seq: record.seq,
    content: record.content,
    tags: record.tags,
    contextPath: record.contextPath,
    layer: record.layer,
    createdAt: record.createdAt,
    recallCount: record.recallCount,
    metadata: record.metadata,
    key: record.key,
    ...(record.updatedAt === undefined ? {} : { updatedAt: record.updatedAt }),
    ...(record.pinned === true ? { pinned: true as const } : {}),
    ...(record.expiresAt === undefined ? {} : { expiresAt: record.expiresAt }),
  };
}
