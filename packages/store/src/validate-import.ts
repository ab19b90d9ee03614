import { StoreValidationError } from './errors.js';
import { RECORD_LINE_VERSION } from './record-json.js';
import { validateTime } from './validate-recall.js';
import { validateRecordId, validateRecordInput, type RecordLimits, type ValidRecordInput } from './validate-record.js';

/** A record read back from an export line, checked: what import() writes. */
export interface ValidImportedRecord extends ValidRecordInput {
  readonly id: string;
  /** Epoch milliseconds. */
  readonly createdAt: number;
  readonly recallCount: number;
  /** Epoch milliseconds: when the current version was written by an update; null if never. */
  readonly updatedAt: number | null;
}

/**
 * Checks one parsed export line (see record-json.ts). The record keeps its id, time, recall count
 * key and update time; its `seq` is not kept (the receiving store gives it its own place in its write order).
 */
export function validateImportedRecord(value: unknown, limits: RecordLimits): ValidImportedRecord {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new StoreValidationError('line', 'expected a JSON object');
  const { v, id: givenId, seq, createdAt, recallCount, updatedAt, ...input } = value as Record<string, unknown>;
  if (v !== RECORD_LINE_VERSION) throw new StoreValidationError('v', `expected format version ${RECORD_LINE_VERSION}, got ${JSON.stringify(v)}`);
  const id = validateRecordId(givenId, 'id');
  if (seq !== undefined && (typeof seq !== 'number' || !Number.isSafeInteger(seq))) throw new StoreValidationError('seq', 'expected an integer');
  if (createdAt === undefined) throw new StoreValidationError('createdAt', 'is missing');
  const createdAtMs = validateTime(createdAt, 'createdAt') as number;
  if (typeof recallCount !== 'number' || !Number.isSafeInteger(recallCount) || recallCount < 0) {
    throw new StoreValidationError('recallCount', 'expected an integer of 0 or more');
  }
  // An exported record says `key: null` when it has none; remember() input leaves it out.
  if (input['key'] === null) delete input['key'];
  const updatedAtMs = updatedAt === undefined || updatedAt === null ? null : (validateTime(updatedAt, 'updatedAt') as number);
  return { ...validateRecordInput(input, limits), id, createdAt: createdAtMs, recallCount, updatedAt: updatedAtMs };
}
