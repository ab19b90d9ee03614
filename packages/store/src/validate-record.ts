import { posix } from 'node:path';
import { StoreValidationError } from './errors.js';
import { describeValue as describe, metadataJson, type MetadataLimits } from './metadata-json.js';
import { INPUT_LIMITS } from './input-limits.js';
import { validateLifecycle, type LifecycleInput } from './validate-lifecycle.js';

/** What a caller passes to remember(). */
export interface RememberInput extends Omit<LifecycleInput, 'expiresAt'> {
  /** When the record expires (see LifecycleInput); or `ttl`. */
  readonly expiresAt?: Date | number | string;
  readonly content: string;
  readonly tags?: readonly string[];
  readonly contextPath?: string;
  readonly layer?: string;
  readonly metadata?: Readonly<Record<string, unknown>>;
  /** Idempotency key: remembering the same key again returns the first record and writes nothing. */
  readonly key?: string;
}

/** A remember() input after validation and normalisation: what gets written. */
export interface ValidRecordInput {
  readonly content: string;
  readonly tags: readonly string[];
  readonly contextPath: string;
  readonly layer: string;
  /** The metadata as JSON text, serialised once here. */
  readonly metadataJson: string;
  readonly key: string | null;
  readonly pinned: boolean;
  /** Epoch milliseconds, or null for a record that never expires. */
  readonly expiresAt: number | null;
}

export interface RecordLimits {
  readonly maxContentBytes: number;
}

export const DEFAULT_LAYER = INPUT_LIMITS.defaultLayer;
export const LAYER_PATTERN = new RegExp(INPUT_LIMITS.layerPattern);
const MAX_TAGS = INPUT_LIMITS.maxTags;
const MAX_TAG_LENGTH = INPUT_LIMITS.maxTagLength;
const MAX_KEY_LENGTH = INPUT_LIMITS.maxKeyLength;
const MAX_CONTEXT_PATH_LENGTH = INPUT_LIMITS.maxContextPathLength;
const MAX_METADATA_DEPTH = INPUT_LIMITS.maxMetadataDepth;
const MAX_METADATA_BYTES = INPUT_LIMITS.maxMetadataBytes;
const METADATA_LIMITS: MetadataLimits = Object.freeze({ maxDepth: MAX_METADATA_DEPTH, maxBytes: MAX_METADATA_BYTES });
const MAX_ID_LENGTH = INPUT_LIMITS.maxIdLength;
const ID_PATTERN = /^[\x21-\x7e]+$/;

/**
 * Checks and normalises one input. Every problem is a StoreValidationError naming the field
 * (prefixed with `fieldPrefix`, e.g. `items[3].`), thrown before anything is written.
 */
export function validateRecordInput(input: unknown, limits: RecordLimits, fieldPrefix = ''): ValidRecordInput {
  const field = (name: string) => `${fieldPrefix}${name}`;
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new StoreValidationError(fieldPrefix === '' ? 'input' : fieldPrefix.replace(/\.$/, ''), 'expected an object');
  }
  const given = input as Record<string, unknown>;
  for (const name of Object.keys(given)) {
    if (!KNOWN_FIELDS.has(name)) throw new StoreValidationError(field(name), 'is not a field of a memory record');
  }
  return {
    content: validateContent(given['content'], limits, field('content')),
    tags: validateTags(given['tags'], field('tags')),
    contextPath: validateContextPath(given['contextPath'], field('contextPath')),
    layer: validateLayer(given['layer'], field('layer')),
    metadataJson: validateMetadata(given['metadata'], field('metadata')),
    key: validateKey(given['key'], field('key')),
    ...lifecycleOf(validateLifecycle(given, Date.now(), fieldPrefix, false)),
  };
}

function lifecycleOf(lifecycle: ReturnType<typeof validateLifecycle>): { pinned: boolean; expiresAt: number | null } {
  return { pinned: lifecycle.pinned ?? false, expiresAt: lifecycle.expiresAt ?? null };
}

const KNOWN_FIELDS = new Set(['content', 'tags', 'contextPath', 'layer', 'metadata', 'key', 'pinned', 'expiresAt', 'ttl']);

/**
 * A character that trim() would keep (\s is the same set: WhiteSpace and LineTerminator). Found
 * in the first few characters of any real content, where `trim() === ''` copied the whole string.
 */
const NOT_WHITE_SPACE = /\S/;

export function validateContent(content: unknown, limits: RecordLimits, field: string): string {
  if (typeof content !== 'string') throw new StoreValidationError(field, `expected a string, got ${describe(content)}`);
  if (!NOT_WHITE_SPACE.test(content)) throw new StoreValidationError(field, 'is empty');
  if (!content.isWellFormed()) {
    throw new StoreValidationError(field, 'contains a lone surrogate, which is not valid Unicode and cannot be stored as UTF-8');
  }
  // UTF-8 takes at most 3 bytes per UTF-16 code unit: only a content that might be over the limit is counted.
  if (content.length * 3 > limits.maxContentBytes) {
    const bytes = Buffer.byteLength(content, 'utf8');
    if (bytes > limits.maxContentBytes) {
      throw new StoreValidationError(field, `is ${bytes} bytes, over the limit of ${limits.maxContentBytes}`);
    }
  }
  return content;
}

/** Tags: trimmed, Unicode-normalised (NFC), duplicates dropped, first occurrence's order kept. */
export function validateTags(tags: unknown, field: string): string[] {
  if (tags === undefined) return [];
  if (!Array.isArray(tags)) throw new StoreValidationError(field, `expected an array of strings, got ${describe(tags)}`);
  if (tags.length > MAX_TAGS) throw new StoreValidationError(field, `has ${tags.length} tags, over the limit of ${MAX_TAGS}`);
  const normalised: string[] = [];
  // By index, not forEach: forEach passes over the holes of a sparse array, which would drop them unseen.
  for (let index = 0; index < tags.length; index += 1) {
    const tag: unknown = tags[index];
    const tagField = `${field}[${index}]`;
    if (typeof tag !== 'string') throw new StoreValidationError(tagField, `expected a string, got ${describe(tag)}`);
    if (!tag.isWellFormed()) throw new StoreValidationError(tagField, 'contains a lone surrogate');
    const clean = tag.trim().normalize('NFC');
    if (clean === '') throw new StoreValidationError(tagField, 'is empty');
    if (clean.length > MAX_TAG_LENGTH) throw new StoreValidationError(tagField, `is longer than ${MAX_TAG_LENGTH} characters`);
    if (clean.includes('\0')) throw new StoreValidationError(tagField, 'contains a NUL character');
    if (!normalised.includes(clean)) normalised.push(clean);
  }
  return normalised;
}

/** A POSIX absolute path, normalised: `/proj//a/./b/` becomes `/proj/a/b`. Default `/`. */
export function validateContextPath(contextPath: unknown, field: string): string {
  if (contextPath === undefined) return '/';
  if (typeof contextPath !== 'string') throw new StoreValidationError(field, `expected a string, got ${describe(contextPath)}`);
  if (!contextPath.startsWith('/')) throw new StoreValidationError(field, `"${contextPath}" is not absolute (it must start with /)`);
  if (contextPath.includes('\0')) throw new StoreValidationError(field, 'contains a NUL character');
  if (!contextPath.isWellFormed()) throw new StoreValidationError(field, 'contains a lone surrogate');
  if (contextPath.length > MAX_CONTEXT_PATH_LENGTH) {
    throw new StoreValidationError(field, `is longer than ${MAX_CONTEXT_PATH_LENGTH} characters`);
  }
  const normalised = posix.normalize(contextPath);
  return normalised.length > 1 && normalised.endsWith('/') ? normalised.slice(0, -1) : normalised;
}

/** A layer name becomes a file name: an identifier, checked before any path is built. */
export function validateLayer(layer: unknown, field: string): string {
  if (layer === undefined) return DEFAULT_LAYER;
  if (typeof layer !== 'string') throw new StoreValidationError(field, `expected a string, got ${describe(layer)}`);
  if (!LAYER_PATTERN.test(layer)) {
    throw new StoreValidationError(
      field,
      `"${layer.slice(0, 80)}" is not a layer name: use 1 to 64 of a-z, 0-9, _ and -, starting with a letter or digit`,
    );
  }
  return layer;
}

export function validateKey(key: unknown, field: string): string | null {
  if (key === undefined) return null;
  if (typeof key !== 'string') throw new StoreValidationError(field, `expected a string, got ${describe(key)}`);
  if (key === '') throw new StoreValidationError(field, 'is empty');
  if (key.length > MAX_KEY_LENGTH) throw new StoreValidationError(field, `is longer than ${MAX_KEY_LENGTH} characters`);
  if (!key.isWellFormed()) throw new StoreValidationError(field, 'contains a lone surrogate');
  return key;
}

/**
 * Metadata: a plain object of JSON values, as JSON text, checked and serialised in one pass
 * (metadata-json.ts) so that nothing is silently rewritten: JSON.stringify would drop undefined,
 * turn NaN into null, a Date into a string, a Map into {}, an array hole into null, and call a
 * getter a second time. A getter is called once and its answer kept; the others are refused,
 * naming their path. A cycle is an error, not a crash.
 */
export function validateMetadata(metadata: unknown, field: string): string {
  if (metadata === undefined) return '{}';
  return metadataJson(metadata, field, METADATA_LIMITS);
}

/**
 * A record id that a store could have given or kept: 1 to 128 printable ASCII characters without
 * spaces (memhub's own are UUIDs; an import keeps the ids it reads, checked the same way).
 */
export function validateRecordId(id: unknown, field: string): string {
  if (typeof id !== 'string' || id === '' || id.length > MAX_ID_LENGTH || !ID_PATTERN.test(id)) {
    throw new StoreValidationError(field, `expected 1 to ${MAX_ID_LENGTH} printable ASCII characters without spaces, got ${describe(id)}`);
  }
  return id;
}
