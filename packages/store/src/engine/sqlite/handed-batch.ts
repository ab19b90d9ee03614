import type { MemoryRecord, RememberedRecord, UpdateOutcome } from '../../memory-record.js';
import type { ValidArchiveSelector } from '../../validate-archive.js';
import type { ValidImportedRecord } from '../../validate-import.js';
import type { ValidRecordInput } from '../../validate-record.js';
import type { MaintainBatch, WriteOperation, WriteResult } from '../../write-operation.js';
import type { PreparedBatch, PreparedRecord } from './sqlite-writer.js';

/** Version of a handed batch's format (field `v`). */
const HANDED_BATCH_VERSION = 1;

/**
 * A batch of validated, prepared write operations that one process hands to the leader, the
 * process that commits for the others (sqlite-shared-commit.ts). Everything the leader needs to
 * apply it as its owner would have: the operations as validated, and each remember's id and time,
 * made by the owner before it handed the batch over.
 */
export interface HandedBatch {
  readonly id: string;
  /** The owner's pid, for messages. */
  readonly pid: number;
  readonly operations: readonly WriteOperation[];
  readonly prepared: PreparedBatch;
}

/**
 * The most characters of content and metadata a process hands to the leader in one batch; a
 * larger batch it commits itself, under the write lock. A batch crosses the socket as one JSON
 * line, which the leader reads whole and parses: a rememberMany of 600 records of a MiB each made
 * a line longer than V8's longest string (a RangeError for a valid call), and far smaller ones
 * hold the leader's memory while they pass. A batch this large pays for its own transaction anyway:
 * the hand-over is for the small writes of many processes. (A character may take 6 bytes in the
 * line: 24 MiB at most.)
 */
export const HANDOVER_MAX_CHARS = 4 * 1024 * 1024;

/** The characters of content and metadata the operations carry: what makes a handed batch long. */
export function handoverChars(operations: readonly WriteOperation[]): number {
  let chars = 0;
  for (const operation of operations) {
    if (operation.kind === 'remember') chars += operation.input.content.length + operation.input.metadataJson.length;
    else if (operation.kind === 'import') chars += operation.record.content.length + operation.record.metadataJson.length;
    else if (operation.kind === 'update') chars += (operation.changes.content?.length ?? 0) + (operation.changes.metadataJson?.length ?? 0);
  }
  return chars;
}

/** The batch as a JSON value (the record contents are JSON strings: exact for valid input). */
export function encodeHandedBatch(batch: HandedBatch): unknown {
  return {
    v: HANDED_BATCH_VERSION,
    id: batch.id,
    pid: batch.pid,
    operations: batch.operations.map(encodeOperation),
    prepared: batch.prepared.map((prepared) => prepared ?? null),
  };
}

/** A batch from its JSON value, or an Error saying why it is not one (another version, a message cut or garbled). */
export function decodeHandedBatch(value: unknown): HandedBatch | Error {
  try {
    const batch = value as { v?: unknown; id?: unknown; pid?: unknown; operations?: unknown; prepared?: unknown } | null;
    if (typeof batch !== 'object' || batch === null) return new Error('not a handed batch');
    if (batch.v !== HANDED_BATCH_VERSION) return new Error(`batch format ${JSON.stringify(batch.v)}, expected ${HANDED_BATCH_VERSION}`);
    if (typeof batch.id !== 'string' || typeof batch.pid !== 'number' || !Array.isArray(batch.operations) || !Array.isArray(batch.prepared)) {
      return new Error('not a handed batch');
    }
    if (batch.prepared.length !== batch.operations.length) return new Error('its operations and their prepared records do not match');
    const operations = batch.operations.map(decodeOperation);
    const prepared = (batch.prepared as unknown[]).map((entry, index) => decodePrepared(entry, operations[index] as WriteOperation));
    return { id: batch.id, pid: batch.pid, operations, prepared };
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

type EncodedOperation =
  | { readonly kind: 'remember'; readonly input: ValidRecordInput }
  | Extract<WriteOperation, { kind: 'forget' | 'update' | 'maintain' }>
  | { readonly kind: 'archive'; readonly selector: ValidArchiveSelector }
  | { readonly kind: 'restore'; readonly ids: readonly string[] }
  | { readonly kind: 'add-recall-counts'; readonly increments: readonly (readonly [number, number])[] }
  | { readonly kind: 'import'; readonly record: ValidImportedRecord };

function encodeOperation(operation: WriteOperation): EncodedOperation {
  return operation.kind === 'add-recall-counts' ? { kind: operation.kind, increments: [...operation.increments] } : operation;
}

function decodeOperation(value: unknown): WriteOperation {
  const operation = value as EncodedOperation;
  switch (operation?.kind) {
    case 'remember':
      checkRecordInput(operation.input);
      return operation;
    case 'import':
      checkRecordInput(operation.record);
      if (typeof operation.record.id !== 'string' || typeof operation.record.createdAt !== 'number' || typeof operation.record.recallCount !== 'number') {
        throw new Error('an import without its id, time or recall count');
      }
      if (operation.record.updatedAt !== null && typeof operation.record.updatedAt !== 'number') throw new Error('an import whose update time is not a time');
      return operation;
    case 'forget':
      if (typeof operation.id !== 'string' || (operation.within !== undefined && typeof operation.within !== 'string')) throw new Error('a forget without an id');
      return operation;
    case 'update':
      if (
        typeof operation.target !== 'string' ||
        typeof operation.key !== 'string' ||
        typeof operation.at !== 'number' ||
        typeof operation.changes !== 'object' ||
        operation.changes === null ||
        (operation.ifSeq !== undefined && typeof operation.ifSeq !== 'number') ||
        (operation.within !== undefined && typeof operation.within !== 'string')
      ) {
        throw new Error('an update without its target, time or changes');
      }
      return operation;
    case 'archive':
      if (typeof operation.selector !== 'object' || operation.selector === null) throw new Error('an archive without a selector');
      return operation;
    case 'maintain':
      if (
        typeof operation.now !== 'number' ||
        typeof operation.limit !== 'number' ||
        (operation.expired !== 'archive' && operation.expired !== 'forget') ||
        (operation.policy !== undefined && (typeof operation.policy !== 'object' || operation.policy === null)) ||
        (operation.within !== undefined && typeof operation.within !== 'string')
      ) {
        throw new Error('a maintain batch without its time, limit or action');
      }
      return operation;
    case 'restore':
      if (!Array.isArray(operation.ids) || !operation.ids.every((id) => typeof id === 'string')) throw new Error('a restore without its ids');
      return operation;
    case 'add-recall-counts':
      if (!Array.isArray(operation.increments) || !operation.increments.every((pair) => Array.isArray(pair) && pair.length === 2 && pair.every(Number.isSafeInteger))) {
        throw new Error('recall counts that are not pairs of integers');
      }
      return { kind: 'add-recall-counts', increments: new Map(operation.increments) };
    default:
      throw new Error(`an operation of unknown kind ${JSON.stringify((operation as { kind?: unknown } | null)?.kind)}`);
  }
}

function checkRecordInput(input: ValidRecordInput | undefined): void {
  if (
    typeof input !== 'object' ||
    input === null ||
    typeof input.content !== 'string' ||
    !Array.isArray(input.tags) ||
    typeof input.contextPath !== 'string' ||
    typeof input.layer !== 'string' ||
    typeof input.metadataJson !== 'string' ||
    (input.key !== null && typeof input.key !== 'string') ||
    typeof input.pinned !== 'boolean' ||
    (input.expiresAt !== null && typeof input.expiresAt !== 'number')
  ) {
    throw new Error('a record that is not one');
  }
}

function decodePrepared(value: unknown, operation: WriteOperation): PreparedRecord | undefined {
  if (operation.kind !== 'remember') return undefined;
  const prepared = value as PreparedRecord | null;
  if (prepared === null || typeof prepared.id !== 'string' || typeof prepared.createdAt !== 'number' || typeof prepared.createdAtIso !== 'string' || typeof prepared.tagsJson !== 'string') {
    throw new Error('a remember without its prepared id and time');
  }
  return { id: prepared.id, createdAt: prepared.createdAt, createdAtIso: prepared.createdAtIso, tagsJson: prepared.tagsJson, recordTail: prepared.recordTail ?? undefined };
}

/**
 * What the leader sends back for one operation of a handed batch, and keeps in
 * `handed_batches.results`: the owner has everything else. A new record: its seq (the owner knows its id, time and fields);
 * a remember whose key was known: the existing record's id; forget: whether it existed; archive:
 * how many moved; import: its seq, or null when skipped; update and maintain: their result as it is (the owner
 * does not know the fields it did not change); recall counts: null.
 */
export type HandedResult = { readonly seq: number } | { readonly existing: string } | UpdateOutcome | MaintainBatch | boolean | number | null;

export function handedResultOf(operation: WriteOperation, result: WriteResult, prepared: PreparedRecord | undefined): HandedResult {
  switch (operation.kind) {
    case 'remember': {
      const record = result as MemoryRecord;
      return record.id === prepared?.id ? { seq: record.seq } : { existing: record.id };
    }
    case 'import':
      return result === null ? null : { seq: (result as MemoryRecord).seq };
    case 'forget':
      return result as boolean;
    case 'update':
      return result as UpdateOutcome;
    case 'maintain':
      return result as MaintainBatch;
    case 'archive':
    case 'restore':
      return result as number;
    case 'add-recall-counts':
      return null;
  }
}

/**
 * The owner's results from what the leader sent back (or kept). `existing` reads a record the store
 * already had (a remember whose key was known).
 */
export async function resultsOfHanded(
  operations: readonly WriteOperation[],
  prepared: PreparedBatch,
  handed: readonly HandedResult[],
  existing: (id: string) => Promise<MemoryRecord | undefined>,
): Promise<WriteResult[]> {
  const results: WriteResult[] = [];
  for (const [index, operation] of operations.entries()) {
    const result = handed[index];
    switch (operation.kind) {
      case 'remember': {
        if (result !== null && typeof result === 'object' && 'existing' in result) {
          const record = await existing(result.existing);
          if (record === undefined) throw new Error(`record ${result.existing} was forgotten before its key could be answered`);
          results.push({ ...record, created: false });
          break;
        }
        const made = prepared[index] as PreparedRecord;
        results.push(newRecord(operation.input, made.id, made.createdAtIso, (result as { seq: number }).seq, 0));
        break;
      }
      case 'import':
        results.push(
          result === null
            ? null
            : {
                ...newRecord(operation.record, operation.record.id, new Date(operation.record.createdAt).toISOString(), (result as { seq: number }).seq, operation.record.recallCount),
                ...(operation.record.updatedAt === null ? {} : { updatedAt: new Date(operation.record.updatedAt).toISOString() }),
              },
        );
        break;
      case 'forget':
      case 'archive':
      case 'restore':
        results.push(result as boolean | number);
        break;
      case 'update':
        results.push(result as UpdateOutcome);
        break;
      case 'maintain':
        results.push(result as MaintainBatch);
        break;
      case 'add-recall-counts':
        results.push(undefined);
        break;
    }
  }
  return results;
}

/** A record this batch wrote, as the leader wrote it (`created: true`). */
function newRecord(input: ValidRecordInput, id: string, createdAt: string, seq: number, recallCount: number): RememberedRecord {
  return {
    id,
    seq,
    content: input.content,
    tags: input.tags,
    contextPath: input.contextPath,
    layer: input.layer,
    createdAt,
    recallCount,
    metadata: input.metadataJson === '{}' ? {} : (JSON.parse(input.metadataJson) as Record<string, unknown>),
    key: input.key,
    ...(input.pinned ? { pinned: true as const } : {}),
    ...(input.expiresAt === null ? {} : { expiresAt: new Date(input.expiresAt).toISOString() }),
    created: true,
  };
}
