import { StoreValidationError } from './errors.js';
import { describeValue } from './metadata-json.js';

/** The latest time a JavaScript Date holds, in epoch milliseconds. */
const MAX_TIME_MS = 8_640_000_000_000_000;
/** A ttl longer than a thousand years is a mistake, not a lifetime. */
const MAX_TTL_MS = 1_000 * 365 * 24 * 60 * 60 * 1000;

/** A record's lifecycle fields as a caller gives them to remember() or update(). */
export interface LifecycleInput {
  /** Pinned records come first in recall and are never archived by a policy. */
  readonly pinned?: boolean;
  /** When the record expires: expired records are not recalled, and maintain() archives (or forgets) them. A Date, epoch ms or ISO 8601. update() takes null to clear it. */
  readonly expiresAt?: Date | number | string | null;
  /** Or a time to live, in milliseconds from the call: `ttl: 7 * 24 * 3600_000`. */
  readonly ttl?: number;
}

/** The lifecycle fields given, checked: `expiresAt` as epoch ms, null to clear (update only); absent fields undefined. */
export interface ValidLifecycle {
  readonly pinned: boolean | undefined;
  readonly expiresAt: number | null | undefined;
}

/**
 * Checks `pinned`, `expiresAt` and `ttl` of an input object (a `ttl` becomes an `expiresAt` from
 * `now`), naming the field with `fieldPrefix`. `expiresAt: null` (clear it) only where `clearable`.
 */
export function validateLifecycle(given: Readonly<Record<string, unknown>>, now: number, fieldPrefix: string, clearable: boolean): ValidLifecycle {
  const field = (name: string) => `${fieldPrefix}${name}`;
  const { pinned, expiresAt, ttl } = given;
  if (pinned !== undefined && typeof pinned !== 'boolean') throw new StoreValidationError(field('pinned'), `expected true or false, got ${describeValue(pinned)}`);
  if (expiresAt !== undefined && ttl !== undefined) throw new StoreValidationError(field('ttl'), 'give expiresAt or ttl, not both');
  let expires: number | null | undefined;
  if (ttl !== undefined) {
    if (typeof ttl !== 'number' || !Number.isSafeInteger(ttl) || ttl < 1 || ttl > MAX_TTL_MS) {
      throw new StoreValidationError(field('ttl'), `expected a time to live in milliseconds (a positive integer, at most a thousand years), got ${describeValue(ttl)}`);
    }
    expires = now + ttl;
  } else if (expiresAt === null) {
    if (!clearable) throw new StoreValidationError(field('expiresAt'), 'expected a time (null clears an expiry, in update)');
    expires = null;
  } else if (expiresAt !== undefined) {
    const ms =
      expiresAt instanceof Date ? expiresAt.getTime() : typeof expiresAt === 'number' ? expiresAt : typeof expiresAt === 'string' ? Date.parse(expiresAt) : Number.NaN;
    if (!Number.isFinite(ms) || Math.abs(ms) > MAX_TIME_MS) {
      throw new StoreValidationError(field('expiresAt'), `expected a Date, epoch milliseconds or an ISO 8601 time, got ${describeValue(expiresAt)}`);
    }
    expires = Math.trunc(ms);
  }
  return { pinned: pinned as boolean | undefined, expiresAt: expires };
}
