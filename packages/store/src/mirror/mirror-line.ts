import type { MemoryRecord } from '../memory-record.js';
import { recordFields } from '../record-json.js';

/** Version of the mirror's line format (field `v` of every line). */
export const MIRROR_LINE_VERSION = 1;

/**
 * One line of a layer's JSONL mirror: one change, with its `seq` (the store-wide order, strictly
 * increasing down a file). Replaying a file's lines in order gives the layer's records.
 *
 * - `remember`: a record entered the layer (its `recallCount` is the total when the line was written);
 * - `update`: a new version of a record (its seq is the line's), in place of the one the layer had;
 * - `forget`: the record was deleted;
 * - `move-out` / `move-in`: the record moved to / from another layer (both files get the same seq);
 * - `recall-counts`: new recall-count totals (totals, not increments: replaying twice counts once);
 * - `snapshot`: the file was rebuilt from the database; the lines above it are the layer as of `seq`.
 */
export type MirrorLine =
  | { readonly v: 1; readonly seq: number; readonly op: 'remember'; readonly record: MemoryRecord }
  | { readonly v: 1; readonly seq: number; readonly op: 'update'; readonly record: MemoryRecord }
  | { readonly v: 1; readonly seq: number; readonly op: 'forget'; readonly id: string }
  | { readonly v: 1; readonly seq: number; readonly op: 'move-out'; readonly id: string; readonly to: string }
  | { readonly v: 1; readonly seq: number; readonly op: 'move-in'; readonly from: string; readonly record: MemoryRecord }
  | { readonly v: 1; readonly seq: number; readonly op: 'recall-counts'; readonly counts: Readonly<Record<string, number>> }
  | { readonly v: 1; readonly seq: number; readonly op: 'snapshot'; readonly records: number };

export type MirrorOpName = MirrorLine['op'];

/** The line as bytes: JSON and `\n` (never os.EOL). JSON.stringify escapes every newline inside. */
export function encodeMirrorLine(line: MirrorLine): string {
  if (line.op === 'remember' || line.op === 'update' || line.op === 'move-in') {
    // The record's fields in a fixed order, whatever object it came from.
    return `${JSON.stringify({ ...line, record: recordFields(line.record) })}\n`;
  }
  return `${JSON.stringify(line)}\n`;
}

/** A line ready to append: its seq and op, the record it is about (for the index), and its text, `\n` included. */
export interface EncodedLine {
  readonly seq: number;
  readonly op: MirrorOpName;
  readonly recordId: string | undefined;
  readonly text: string;
}

export function encodeLine(line: MirrorLine): EncodedLine {
  return { seq: line.seq, op: line.op, recordId: lineRecordId(line), text: encodeMirrorLine(line) };
}

/** A record's fields with its tags and metadata already as JSON text, as the database keeps them. */
export interface RecordJsonParts {
  readonly id: string;
  readonly seq: number;
  readonly content: string;
  readonly tagsJson: string;
  readonly contextPath: string;
  readonly layer: string;
  readonly createdAt: string;
  readonly recallCount: number;
  readonly metadataJson: string;
  readonly key: string | null;
  /** Only for a record updated since it was remembered. */
  readonly updatedAt?: string | undefined;
  readonly pinned?: boolean | undefined;
  /** Only for a record that expires. */
  readonly expiresAt?: string | undefined;
}

/**
 * The record object of a remember or move-in line, as JSON text, put together from its parts:
 * the same fields in the same order as recordFields(), without parsing the tags and metadata
 * only to write them out again (the mirror's hot path, once per record appended).
 */
export function recordJsonText(parts: RecordJsonParts): string {
  return recordJsonFromTail(parts.id, parts.seq, recordJsonTail(parts));
}

/**
 * Everything of the record object after its id and seq, closing brace included: the part that
 * can be written before the seq is known (a writer builds it before it takes the write lock).
 */
export function recordJsonTail(parts: Omit<RecordJsonParts, 'id' | 'seq'>): string {
  return (
    `"content":${JSON.stringify(parts.content)},"tags":${parts.tagsJson},` +
    `"contextPath":${JSON.stringify(parts.contextPath)},"layer":${JSON.stringify(parts.layer)},"createdAt":${JSON.stringify(parts.createdAt)},` +
    `"recallCount":${parts.recallCount},"metadata":${parts.metadataJson},"key":${parts.key === null ? 'null' : JSON.stringify(parts.key)}` +
    `${parts.updatedAt === undefined ? '' : `,"updatedAt":${JSON.stringify(parts.updatedAt)}`}` +
    `${parts.pinned === true ? ',"pinned":true' : ''}${parts.expiresAt === undefined ? '' : `,"expiresAt":${JSON.stringify(parts.expiresAt)}`}}`
  );
}

/** The record object from its id, its seq and the rest as recordJsonTail() wrote it. */
export function recordJsonFromTail(id: string, seq: number, tail: string): string {
  return `{"id":${JSON.stringify(id)},"seq":${seq},${tail}`;
}

/** The record id a line is about (undefined for recall-counts and snapshot lines). */
export function lineRecordId(line: MirrorLine): string | undefined {
  switch (line.op) {
    case 'remember':
    case 'update':
    case 'move-in':
      return line.record.id;
    case 'forget':
    case 'move-out':
      return line.id;
    default:
      return undefined;
  }
}

/** A line that is not a valid mirror line; `reason` says why. */
export class MirrorLineError extends Error {
  readonly reason: string;

  constructor(reason: string) {
    super(reason);
    this.name = 'MirrorLineError';
    this.reason = reason;
  }
}

const OPS = new Set<string>(['remember', 'update', 'forget', 'move-out', 'move-in', 'recall-counts', 'snapshot']);

/**
 * Parses and checks one line (without its `\n`). Every field is checked for its type, so that a
 * line a person or a tool edited by hand is reported, not half-applied.
 */
export function parseMirrorLine(text: string): MirrorLine {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new MirrorLineError(`not JSON (${(error as Error).message})`);
  }
  if (!isObject(value)) throw new MirrorLineError('not a JSON object');
  if (value['v'] !== MIRROR_LINE_VERSION) throw new MirrorLineError(`format version ${JSON.stringify(value['v'])}, expected ${MIRROR_LINE_VERSION}`);
  const seq = value['seq'];
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) throw new MirrorLineError('seq is not a positive integer');
  const op = value['op'];
  if (typeof op !== 'string' || !OPS.has(op)) throw new MirrorLineError(`unknown op ${JSON.stringify(op)}`);
  switch (op) {
    case 'remember':
    case 'update':
      return { v: 1, seq, op, record: checkRecord(value['record']) };
    case 'move-in':
      return { v: 1, seq, op, from: checkString(value['from'], 'from'), record: checkRecord(value['record']) };
    case 'forget':
      return { v: 1, seq, op, id: checkString(value['id'], 'id') };
    case 'move-out':
      return { v: 1, seq, op, id: checkString(value['id'], 'id'), to: checkString(value['to'], 'to') };
    case 'recall-counts': {
      const counts = value['counts'];
      if (!isObject(counts)) throw new MirrorLineError('counts is not an object');
      for (const [id, total] of Object.entries(counts)) {
        if (typeof total !== 'number' || !Number.isSafeInteger(total) || total < 0) throw new MirrorLineError(`count of ${id} is not a count`);
      }
      return { v: 1, seq, op, counts: counts as Record<string, number> };
    }
    default: {
      const records = value['records'];
      if (typeof records !== 'number' || !Number.isSafeInteger(records) || records < 0) throw new MirrorLineError('records is not a count');
      return { v: 1, seq, op: 'snapshot', records };
    }
  }
}

function checkRecord(value: unknown): MemoryRecord {
  if (!isObject(value)) throw new MirrorLineError('record is not an object');
  const record = value;
  checkString(record['id'], 'record.id');
  checkString(record['content'], 'record.content');
  checkString(record['contextPath'], 'record.contextPath');
  checkString(record['layer'], 'record.layer');
  checkString(record['createdAt'], 'record.createdAt');
  if (!Number.isSafeInteger(record['seq'])) throw new MirrorLineError('record.seq is not an integer');
  if (!Number.isSafeInteger(record['recallCount']) || (record['recallCount'] as number) < 0) {
    throw new MirrorLineError('record.recallCount is not a count');
  }
  if (!Array.isArray(record['tags']) || !record['tags'].every((tag) => typeof tag === 'string')) {
    throw new MirrorLineError('record.tags is not an array of strings');
  }
  if (!isObject(record['metadata'])) throw new MirrorLineError('record.metadata is not an object');
  if (record['key'] !== null && typeof record['key'] !== 'string') throw new MirrorLineError('record.key is not a string or null');
  if (record['updatedAt'] !== undefined) checkString(record['updatedAt'], 'record.updatedAt');
  if (record['pinned'] !== undefined && record['pinned'] !== true) throw new MirrorLineError('record.pinned is not true');
  if (record['expiresAt'] !== undefined) checkString(record['expiresAt'], 'record.expiresAt');
  return record as unknown as MemoryRecord;
}

function checkString(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '') throw new MirrorLineError(`${field} is not a non-empty string`);
  return value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
