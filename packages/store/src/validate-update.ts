import { StoreValidationError } from './errors.js';
import { describeValue } from './metadata-json.js';
import { INPUT_LIMITS } from './input-limits.js';
import { validateLifecycle, type LifecycleInput } from './validate-lifecycle.js';
import { validateContent, validateContextPath, validateLayer, validateMetadata, validateTags, type RecordLimits } from './validate-record.js';

/**
 * What a caller passes to update(): the fields to change (the others keep their value), and
 * optionally `ifSeq`, the seq the caller last saw the record at: the update is then written only
 * if nobody updated the record since (compare-and-set), else it fails with StoreConflictError.
 * The id, the idempotency key and the creation time never change.
 */
export interface UpdateInput extends LifecycleInput {
  readonly content?: string;
  readonly tags?: readonly string[];
  readonly contextPath?: string;
  readonly metadata?: Readonly<Record<string, unknown>>;
  readonly layer?: string;
  readonly ifSeq?: number;
}

/** The fields an update changes, validated and normalised as remember() keeps them. */
export interface ValidRecordChanges {
  readonly content?: string;
  readonly tags?: readonly string[];
  readonly contextPath?: string;
  /** The metadata as JSON text. */
  readonly metadataJson?: string;
  readonly layer?: string;
  readonly pinned?: boolean;
  /** Epoch milliseconds; null removes the expiry. */
  readonly expiresAt?: number | null;
}

export interface ValidUpdate {
  /** An id, or an idempotency key (as the caller gives it: the store puts it under its scope). */
  readonly target: string;
  readonly changes: ValidRecordChanges;
  readonly ifSeq: number | undefined;
}

const CHANGEABLE = new Set(['content', 'tags', 'contextPath', 'metadata', 'layer', 'pinned', 'expiresAt', 'ttl']);
const MAX_TARGET_LENGTH = Math.max(INPUT_LIMITS.maxIdLength, INPUT_LIMITS.maxKeyLength);

/** Checks update()'s arguments before anything is written; every problem names its field. */
export function validateUpdate(idOrKey: unknown, input: unknown, limits: RecordLimits): ValidUpdate {
  if (typeof idOrKey !== 'string' || idOrKey === '') throw new StoreValidationError('idOrKey', `expected a record's id or key, got ${describeValue(idOrKey)}`);
  if (idOrKey.length > MAX_TARGET_LENGTH) throw new StoreValidationError('idOrKey', `is longer than ${MAX_TARGET_LENGTH} characters, longer than any id or key`);
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new StoreValidationError('changes', 'expected an object of the fields to change');
  const given = input as Record<string, unknown>;
  for (const name of Object.keys(given)) {
    if (name === 'ifSeq' || CHANGEABLE.has(name)) continue;
    if (name === 'key' || name === 'id' || name === 'createdAt' || name === 'seq' || name === 'recallCount') {
      throw new StoreValidationError(name, 'cannot be changed by update (content, tags, contextPath, metadata, layer, pinned and expiresAt or ttl can)');
    }
    throw new StoreValidationError(name, 'is not a field of a memory record');
  }
  const changes: { -readonly [Name in keyof ValidRecordChanges]: ValidRecordChanges[Name] } = {};
  if (given['content'] !== undefined) changes.content = validateContent(given['content'], limits, 'content');
  if (given['tags'] !== undefined) changes.tags = validateTags(given['tags'], 'tags');
  if (given['contextPath'] !== undefined) changes.contextPath = validateContextPath(given['contextPath'], 'contextPath');
  if (given['metadata'] !== undefined) changes.metadataJson = validateMetadata(given['metadata'], 'metadata');
  if (given['layer'] !== undefined) changes.layer = validateLayer(given['layer'], 'layer');
  const lifecycle = validateLifecycle(given, Date.now(), '', true);
  if (lifecycle.pinned !== undefined) changes.pinned = lifecycle.pinned;
  if (lifecycle.expiresAt !== undefined) changes.expiresAt = lifecycle.expiresAt;
  if (Object.keys(changes).length === 0) {
    throw new StoreValidationError('changes', 'names no field to change (content, tags, contextPath, metadata, layer, pinned, expiresAt or ttl)');
  }
  const ifSeq = given['ifSeq'];
  if (ifSeq !== undefined && (typeof ifSeq !== 'number' || !Number.isSafeInteger(ifSeq) || ifSeq < 1)) {
    throw new StoreValidationError('ifSeq', `expected a record's seq (a positive integer), got ${describeValue(ifSeq)}`);
  }
  return { target: idOrKey, changes, ifSeq: ifSeq as number | undefined };
}
