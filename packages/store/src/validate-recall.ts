import { StoreValidationError } from './errors.js';
import { validateContextPath, validateLayer, validateTags } from './validate-record.js';
import { INPUT_LIMITS } from './input-limits.js';

/** What a caller passes to recall(). Every filter is optional; all given filters must match. */
export interface RecallQuery {
  /**
   * Words to search for in the content, any of them, best match first (FTS5 bm25; PostgreSQL
   * ts_rank). English forms match (`deploy` finds "deploys"); `depl*` is a prefix. No other syntax.
   */
  readonly query?: string;
  /** Records that carry all of these tags. */
  readonly tags?: readonly string[];
  /** Records that carry at least one of these tags (with `tags`, both must hold). */
  readonly anyTags?: readonly string[];
  /**
   * Records whose metadata has each of these top-level keys with exactly this value: a string, a
   * number, a boolean or null (`{ source: 'runbook', reviewed: true }`).
   */
  readonly metadata?: Readonly<Record<string, MetadataFilterValue>>;
  /** Records at this path or below it: `/proj/a` matches `/proj/a/b`, not `/proj/ab`. */
  readonly contextPath?: string;
  /** Only this layer (default: every layer). */
  readonly layer?: string;
  /** true: only pinned records; false: only records not pinned. Default: both, the pinned first. */
  readonly pinned?: boolean;
  /** Created at or after (a Date, epoch milliseconds or an ISO 8601 string). */
  readonly since?: Date | number | string;
  /** Created before. */
  readonly until?: Date | number | string;
  /** At most this many records (1 to 1000, default 10). */
  readonly limit?: number;
  /**
   * Count this recall in each record's recall count (default true). False reads without counting:
   * a listing, a browser, an export of the newest are not the memory being used.
   */
  readonly count?: boolean;
  /** Give each hit `explain`: the parts of its score (text, recency, usage). Default false. */
  readonly explain?: boolean;
}

/** A value a metadata filter compares a top-level key with: equality, and JSON types must match. */
export type MetadataFilterValue = string | number | boolean | null;

export interface ValidRecallQuery {
  /** The words to search for (any of them, best match first; one ending in `*` a prefix), or undefined for no full-text filter. */
  readonly words: readonly string[] | undefined;
  readonly tags: readonly string[];
  /** Empty: no any-of filter. */
  readonly anyTags: readonly string[];
  /** [key, value] pairs, each to match; empty: no metadata filter. */
  readonly metadata: readonly (readonly [string, MetadataFilterValue])[];
  readonly contextPath: string | undefined;
  readonly layer: string | undefined;
  /** Only pinned (true) or only unpinned (false) records; undefined: both. */
  readonly pinned: boolean | undefined;
  readonly since: number | undefined;
  readonly until: number | undefined;
  readonly limit: number;
  readonly count: boolean;
  /** Give each hit the parts of its score. */
  readonly explain: boolean;
  /** The time of the recall (epoch ms): records that expired by then are not found. */
  readonly now: number;
}

const MAX_LIMIT = INPUT_LIMITS.maxRecallLimit;
const MAX_QUERY_LENGTH = INPUT_LIMITS.maxQueryLength;
const KNOWN_FIELDS = new Set(['query', 'tags', 'anyTags', 'metadata', 'contextPath', 'layer', 'pinned', 'since', 'until', 'limit', 'count', 'explain']);
const MAX_METADATA_FILTERS = 16;
const MAX_METADATA_KEY_LENGTH = 200;

export function validateRecallQuery(input: unknown): ValidRecallQuery {
  if (input === undefined) input = {};
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new StoreValidationError('query', 'expected an object of recall filters');
  }
  const given = input as Record<string, unknown>;
  for (const name of Object.keys(given)) {
    if (!KNOWN_FIELDS.has(name)) throw new StoreValidationError(name, 'is not a recall filter');
  }
  return {
    words: queryWords(given['query']),
    tags: validateTags(given['tags'], 'tags'),
    anyTags: validateTags(given['anyTags'], 'anyTags'),
    metadata: metadataFilter(given['metadata']),
    contextPath: given['contextPath'] === undefined ? undefined : validateContextPath(given['contextPath'], 'contextPath'),
    layer: given['layer'] === undefined ? undefined : validateLayer(given['layer'], 'layer'),
    pinned: given['pinned'] === undefined ? undefined : flag(given['pinned'], 'pinned', false),
    since: validateTime(given['since'], 'since'),
    until: validateTime(given['until'], 'until'),
    limit: limit(given['limit']),
    count: flag(given['count'], 'count', true),
    explain: flag(given['explain'], 'explain', false),
    now: Date.now(),
  };
}

/**
 * The words of a plain-text query: runs of letters, digits and `_`, each one found in its English
 * forms (stemmed: `deploy` finds "deploys" and "deployed"). A word ending in `*` is a prefix
 * (`depl*`), and kept with its `*`. No other query syntax is parsed (each engine quotes the
 * words), so `AND`, `-`, `:` and quotes are searched for as text.
 */
function queryWords(query: unknown): string[] | undefined {
  if (query === undefined) return undefined;
  if (typeof query !== 'string') throw new StoreValidationError('query', 'expected a string');
  if (query.length > MAX_QUERY_LENGTH) throw new StoreValidationError('query', `is longer than ${MAX_QUERY_LENGTH} characters`);
  const words = query.match(/[\p{L}\p{N}_]+\*?/gu) ?? [];
  if (words.length === 0) throw new StoreValidationError('query', 'has no word to search for');
  return [...new Set(words)];
}

/** `{ key: value }` pairs: plain object, at most MAX_METADATA_FILTERS keys, scalar JSON values. */
function metadataFilter(value: unknown): [string, MetadataFilterValue][] {
  if (value === undefined) return [];
  if (typeof value !== 'object' || value === null || Array.isArray(value) || Object.getPrototypeOf(value) !== Object.prototype) {
    throw new StoreValidationError('metadata', 'expected a plain object of top-level keys and the values they must have');
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > MAX_METADATA_FILTERS) throw new StoreValidationError('metadata', `has more than ${MAX_METADATA_FILTERS} keys`);
  return entries.map(([key, wanted]) => {
    if (key === '' || key.length > MAX_METADATA_KEY_LENGTH) throw new StoreValidationError('metadata', `a key must be 1 to ${MAX_METADATA_KEY_LENGTH} characters, got ${JSON.stringify(key)}`);
    const ok = wanted === null || typeof wanted === 'string' || typeof wanted === 'boolean' || (typeof wanted === 'number' && Number.isFinite(wanted));
    if (!ok) throw new StoreValidationError(`metadata.${key}`, 'expected a string, a finite number, a boolean or null to compare with');
    return [key, wanted as MetadataFilterValue];
  });
}

function flag(value: unknown, field: string, byDefault: boolean): boolean {
  if (value === undefined) return byDefault;
  if (typeof value !== 'boolean') throw new StoreValidationError(field, 'expected true or false');
  return value;
}

/** A point in time as epoch milliseconds: from a Date, epoch milliseconds or an ISO 8601 string. */
export function validateTime(value: unknown, field: string): number | undefined {
  if (value === undefined) return undefined;
  const ms =
    value instanceof Date ? value.getTime() : typeof value === 'number' ? value : typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (!Number.isFinite(ms)) throw new StoreValidationError(field, 'expected a Date, epoch milliseconds or an ISO 8601 time');
  return ms;
}

function limit(value: unknown): number {
  if (value === undefined) return INPUT_LIMITS.defaultRecallLimit;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_LIMIT) {
    throw new StoreValidationError('limit', `expected an integer from 1 to ${MAX_LIMIT}`);
  }
  return value;
}
