import { StoreValidationError } from '../../errors.js';
import { MirrorLineError, parseMirrorLine } from '../../mirror/mirror-line.js';
import { validateContent, validateContextPath, validateKey, validateLayer, validateMetadata, validateRecordId, validateTags } from '../../validate-record.js';

/**
 * Why rebuildFromMirror() skipped a line, in one word (the report counts lines by kind):
 *
 * - `torn-line`: the file's last line, without its newline (a crash mid-append);
 * - `line-too-long`: longer than any mirror line (its bytes were not held in memory);
 * - `not-a-mirror-line`: not UTF-8, not JSON, not an object, another format version, an unknown
 *   op, a field missing, of the wrong type, or one a mirror line does not have;
 * - `invalid-record`: a value remember() would have refused or kept otherwise (an empty tag, a
 *   relative contextPath, a time that is not an ISO date, ...), or a record of another layer;
 * - `duplicate-seq`: the seq of another line of the same file, which comes first in the file;
 * - `duplicate-id`: a remember or move-in of a record that is in the layer already;
 * - `superseded`: the record is in another layer as well, as of a later seq;
 * - `seq-in-use`: the record's seq is another record's, which came first;
 * - `key-in-use`: the record's idempotency key is another record's, remembered earlier.
 */
export type SkippedLineKind =
  | 'torn-line'
  | 'line-too-long'
  | 'not-a-mirror-line'
  | 'invalid-record'
  | 'duplicate-seq'
  | 'duplicate-id'
  | 'superseded'
  | 'seq-in-use'
  | 'key-in-use';

export const SKIPPED_LINE_KINDS: readonly SkippedLineKind[] = [
  'torn-line',
  'line-too-long',
  'not-a-mirror-line',
  'invalid-record',
  'duplicate-seq',
  'duplicate-id',
  'superseded',
  'seq-in-use',
  'key-in-use',
];

/** A line the rebuild does not apply: its kind and, in words, why. */
export class SkippedLine extends Error {
  readonly kind: SkippedLineKind;
  readonly reason: string;

  constructor(kind: SkippedLineKind, reason: string) {
    super(reason);
    this.name = 'SkippedLine';
    this.kind = kind;
    this.reason = reason;
  }
}

/** A record of a remember or move-in line, checked: what goes into the `records` table. */
export interface RebuildRecord {
  readonly id: string;
  readonly seq: number;
  readonly content: string;
  readonly tags: readonly string[];
  readonly tagsJson: string;
  readonly contextPath: string;
  readonly metadataJson: string;
  readonly key: string | null;
  /** Epoch milliseconds. */
  readonly createdAt: number;
  readonly recallCount: number;
  /** Epoch milliseconds; null for a record never updated. */
  readonly updatedAt: number | null;
  readonly pinned: boolean;
  /** Epoch milliseconds; null for a record that never expires. */
  readonly expiresAt: number | null;
}

/** A mirror line that passed every check, in the form the rebuild applies it. */
export type RebuildLine =
  | { readonly op: 'remember' | 'update' | 'move-in'; readonly seq: number; readonly record: RebuildRecord }
  | { readonly op: 'forget' | 'move-out'; readonly seq: number; readonly id: string }
  | { readonly op: 'recall-counts'; readonly seq: number; readonly counts: Readonly<Record<string, number>> }
  | { readonly op: 'snapshot'; readonly seq: number };

/** The fields each op's line has, and nothing else: a line memhub did not write is not applied half-understood. */
const LINE_FIELDS: Readonly<Record<string, ReadonlySet<string>>> = {
  remember: new Set(['v', 'seq', 'op', 'record']),
  update: new Set(['v', 'seq', 'op', 'record']),
  'move-in': new Set(['v', 'seq', 'op', 'from', 'record']),
  forget: new Set(['v', 'seq', 'op', 'id']),
  'move-out': new Set(['v', 'seq', 'op', 'id', 'to']),
  'recall-counts': new Set(['v', 'seq', 'op', 'counts']),
  snapshot: new Set(['v', 'seq', 'op', 'records']),
};
const RECORD_FIELDS: ReadonlySet<string> = new Set(['id', 'seq', 'content', 'tags', 'contextPath', 'layer', 'createdAt', 'recallCount', 'metadata', 'key', 'updatedAt', 'pinned', 'expiresAt']);

/**
 * The content of a line of a store opened with any `maxContentBytes` (the limit is an option of
 * each open, not kept in the store): only the line length bounds it.
 */
const ANY_CONTENT_SIZE = { maxContentBytes: Number.POSITIVE_INFINITY };

/**
 * Checks one line (its text, without the `\n`) of `<layer>.jsonl` for a rebuild: the shape that
 * parseMirrorLine() checks, then every value of a record with the same checks as remember()
 * (content, tags, contextPath, layer, metadata, key), plus its id, its seq (a remember line's is
 * the line's; a move-in's is below it), its time (an ISO 8601 time as memhub writes it) and its
 * recall count. A value must be exactly what remember() would have kept (tags trimmed, NFC,
 * without duplicates; contextPath normalised): a rebuilt record is never silently different from
 * its line. Throws SkippedLine.
 */
export function checkRebuildLine(text: string, layer: string): RebuildLine {
  let parsed;
  try {
    parsed = parseMirrorLine(text);
  } catch (error) {
    if (error instanceof MirrorLineError) throw new SkippedLine('not-a-mirror-line', error.reason);
    throw error;
  }
  const raw = JSON.parse(text) as Record<string, unknown>;
  const fields = LINE_FIELDS[parsed.op] as ReadonlySet<string>;
  const extra = Object.keys(raw).find((name) => !fields.has(name));
  if (extra !== undefined) throw new SkippedLine('not-a-mirror-line', `${JSON.stringify(extra)} is not a field of a ${parsed.op} line`);
  try {
    switch (parsed.op) {
      case 'remember':
      case 'update':
      case 'move-in': {
        if (parsed.op === 'move-in') otherLayer(parsed.from, layer, 'from');
        const record = checkRecord(raw['record'] as Record<string, unknown>, layer);
        if (parsed.op !== 'move-in' && record.seq !== parsed.seq) {
          throw new StoreValidationError('record.seq', `is ${record.seq}, not the line's seq ${parsed.seq} (a ${parsed.op} line's seq is its record's)`);
        }
        if (parsed.op === 'update' && record.updatedAt === null) throw new StoreValidationError('record.updatedAt', 'is missing from an update line');
        if (parsed.op === 'move-in' && (record.seq < 1 || record.seq >= parsed.seq)) {
          throw new StoreValidationError('record.seq', `is ${record.seq}, not between 1 and the move's seq ${parsed.seq}`);
        }
        return { op: parsed.op, seq: parsed.seq, record };
      }
      case 'forget':
        return { op: parsed.op, seq: parsed.seq, id: validateRecordId(parsed.id, 'id') };
      case 'move-out':
        otherLayer(parsed.to, layer, 'to');
        return { op: parsed.op, seq: parsed.seq, id: validateRecordId(parsed.id, 'id') };
      case 'recall-counts':
        for (const id of Object.keys(parsed.counts)) validateRecordId(id, 'counts');
        return { op: parsed.op, seq: parsed.seq, counts: parsed.counts };
      case 'snapshot':
        return { op: parsed.op, seq: parsed.seq };
    }
  } catch (error) {
    if (error instanceof StoreValidationError) throw new SkippedLine('invalid-record', `${error.field}: ${error.reason}`);
    throw error;
  }
}

function checkRecord(record: Record<string, unknown>, layer: string): RebuildRecord {
  const extra = Object.keys(record).find((name) => !RECORD_FIELDS.has(name));
  if (extra !== undefined) throw new StoreValidationError(`record.${extra}`, 'is not a field of a memory record');
  const recordLayer = validateLayer(record['layer'], 'record.layer');
  if (recordLayer !== layer) throw new StoreValidationError('record.layer', `is "${recordLayer}", but the line is in ${layer}.jsonl`);
  const tags = record['tags'] as string[];
  const keptTags = validateTags(tags, 'record.tags');
  if (keptTags.length !== tags.length || keptTags.some((tag, index) => tag !== tags[index])) {
    throw new StoreValidationError('record.tags', `${JSON.stringify(tags)} is not as remember() keeps tags (trimmed, NFC, no duplicates): ${JSON.stringify(keptTags)}`);
  }
  const contextPath = record['contextPath'] as string;
  const keptPath = validateContextPath(contextPath, 'record.contextPath');
  if (keptPath !== contextPath) throw new StoreValidationError('record.contextPath', `"${contextPath}" is not normalised (remember() keeps "${keptPath}")`);
  const key = record['key'] === null ? null : validateKey(record['key'], 'record.key');
  return {
    id: validateRecordId(record['id'], 'record.id'),
    seq: record['seq'] as number,
    content: validateContent(record['content'], ANY_CONTENT_SIZE, 'record.content'),
    tags,
    tagsJson: JSON.stringify(tags),
    contextPath,
    metadataJson: validateMetadata(record['metadata'], 'record.metadata'),
    key,
    createdAt: memhubTime(record['createdAt'], 'record.createdAt'),
    recallCount: record['recallCount'] as number,
    updatedAt: record['updatedAt'] === undefined ? null : memhubTime(record['updatedAt'], 'record.updatedAt'),
    pinned: record['pinned'] === true,
    expiresAt: record['expiresAt'] === undefined ? null : memhubTime(record['expiresAt'], 'record.expiresAt'),
  };
}

/** A time as memhub writes it (Date.toISOString(): UTC, milliseconds), as epoch milliseconds. */
function memhubTime(value: unknown, field: string): number {
  const text = String(value);
  const ms = Date.parse(text);
  if (!Number.isFinite(ms) || new Date(ms).toISOString() !== text) {
    throw new StoreValidationError(field, `${JSON.stringify(text.slice(0, 40))} is not an ISO 8601 time as memhub writes it (like 2024-05-01T12:00:00.000Z)`);
  }
  return ms;
}

/** The other end of a move: a layer name, not this layer. */
function otherLayer(value: string, layer: string, field: string): void {
  validateLayer(value, field);
  if (value === layer) throw new StoreValidationError(field, `is this line's own layer, ${layer}`);
}
