import type { MemoryRecord, RecalledRecord, RecordVersion, RememberedRecord, StoreStats } from '@memhub/store';
import { z } from 'zod';

/**
 * What each tool answers, as zod schemas: the tools' `outputSchema`, which the SDK checks every
 * answer against and which a client can check too. An MCP client takes only an object as structured
 * content, so a list or a record that may be missing is wrapped (`{ records }`, `{ record }`).
 *
 * The schemas list each field, and in JSON Schema an object of them allows no other field: the
 * functions below build the answers field by field, so a field the store adds later does not
 * make an answer fail its own schema.
 */

const recordFields = {
  id: z.string(),
  seq: z.number().int().describe('Position in the store\'s one write order.'),
  content: z.string(),
  tags: z.array(z.string()),
  contextPath: z.string(),
  layer: z.string(),
  createdAt: z.iso.datetime().describe('ISO 8601, UTC.'),
  recallCount: z.number().int().min(0).describe('How many times recall has found it.'),
  metadata: z.record(z.string(), z.unknown()),
  key: z.string().nullable().describe('The idempotency key it was remembered with, or null.'),
  updatedAt: z.iso.datetime().optional().describe('ISO 8601, UTC: when the current version was written by an update (absent if never updated).'),
  pinned: z.literal(true).optional().describe('Present on a pinned record: first in recall, never archived by a policy.'),
  expiresAt: z.string().optional().describe('ISO 8601, UTC: when it expires (absent if never).'),
};

const memoryRecord = z.object(recordFields);

export const rememberResult = z.object({
  ...recordFields,
  created: z.boolean().describe('false when a record with this key was in the store already: that record is returned, and nothing was written.'),
});

const recalledRecord = z.object({
  ...recordFields,
  score: z.number().describe('Higher is better: text relevance, recency and usage, each weighted (see explain).'),
  snippet: z.string().optional().describe('Found by words: the part of the content where they are, each between « and ».'),
  explain: z
    .object({ text: z.number(), recency: z.number(), usage: z.number(), pin: z.number() })
    .optional()
    .describe('With explain: the weighted parts of the score.'),
});

export const recallResult = z.object({ records: z.array(recalledRecord).describe('Best score first with words, otherwise the newest first.') });

export const getResult = z.object({ record: memoryRecord.nullable().describe('null when no record has that id.') });

export const updateResult = memoryRecord;

const recordVersion = z.object({
  id: z.string(),
  seq: z.number().int().describe('The version\'s place in the store\'s write order.'),
  at: z.iso.datetime().describe('When this version was written, ISO 8601, UTC.'),
  content: z.string(),
  tags: z.array(z.string()),
  contextPath: z.string(),
  layer: z.string(),
  metadata: z.record(z.string(), z.unknown()),
});

export const historyResult = z.object({ versions: z.array(recordVersion).describe('Oldest first; the last is the record as it is now. Empty when no record has that id or key.') });

export function versionAnswer(version: RecordVersion): z.infer<typeof recordVersion> {
  return {
    id: version.id,
    seq: version.seq,
    at: version.at,
    content: version.content,
    tags: [...version.tags],
    contextPath: version.contextPath,
    layer: version.layer,
    metadata: { ...version.metadata },
  };
}

export const maintainResult = z.object({
  archived: z.number().int().min(0).describe('Memories moved to the archive layer.'),
  forgotten: z.number().int().min(0).describe('Expired memories deleted (with expired: forget).'),
  changes: z
    .array(z.object({ id: z.string(), action: z.enum(['archive', 'forget']), reason: z.enum(['expired', 'policy']), detail: z.string() }))
    .describe('Each memory moved or deleted, and why (the first 1,000).'),
});

export const forgetResult = z.object({ id: z.string(), forgotten: z.boolean().describe('false when no record had that id.') });

export const archiveResult = z.object({ moved: z.number().int().min(0).describe('How many records moved to the archive layer.') });

export const restoreResult = z.object({ moved: z.number().int().min(0).describe('How many records moved back to the application layer.') });

export const statsResult = z.object({
  location: z.string().describe('The store folder, or the PostgreSQL server without its password.'),
  engine: z.enum(['sqlite', 'postgres']),
  records: z.number().int().min(0),
  recordsByLayer: z.record(z.string(), z.number().int().min(0)),
  recallCountTotal: z.number().int().min(0).describe('The sum of every record\'s recall count, as written.'),
  pendingRecallCounts: z.number().int().min(0).describe('Recall counts of this server not written yet.'),
  databaseBytes: z.number().int().min(0),
});

export type RecordAnswer = z.infer<typeof memoryRecord>;

export function recordAnswer(record: MemoryRecord): RecordAnswer {
  return {
    id: record.id,
    seq: record.seq,
    content: record.content,
    tags: [...record.tags],
    contextPath: record.contextPath,
    layer: record.layer,
    createdAt: record.createdAt,
    recallCount: record.recallCount,
    metadata: { ...record.metadata },
    key: record.key,
    ...(record.updatedAt === undefined ? {} : { updatedAt: record.updatedAt }),
    ...(record.pinned === true ? { pinned: true as const } : {}),
    ...(record.expiresAt === undefined ? {} : { expiresAt: record.expiresAt }),
  };
}

export function recalledAnswer(record: RecalledRecord): z.infer<typeof recalledRecord> {
  return {
    ...recordAnswer(record),
    score: record.score,
    ...(record.snippet === undefined ? {} : { snippet: record.snippet }),
    ...(record.explain === undefined ? {} : { explain: { text: record.explain.text, recency: record.explain.recency, usage: record.explain.usage, pin: record.explain.pin } }),
  };
}

export function rememberAnswer(record: RememberedRecord): z.infer<typeof rememberResult> {
  return { ...recordAnswer(record), created: record.created };
}

export function statsAnswer(stats: StoreStats): z.infer<typeof statsResult> {
  return {
    location: stats.location,
    engine: stats.engine,
    records: stats.records,
    recordsByLayer: { ...stats.recordsByLayer },
    recallCountTotal: stats.recallCountTotal,
    pendingRecallCounts: stats.pendingRecallCounts,
    databaseBytes: stats.databaseBytes,
  };
}
