import { StoreValidationError } from './errors.js';
import { describeValue } from './metadata-json.js';

/**
 * What maintain() archives, besides expired records: records of the `application` layer that are
 * not pinned and meet every criterion given (a policy of several criteria archives what meets them
 * all: `{ olderThan: '90d', recallCountBelow: 3 }` is "older than 90 days AND recalled fewer than 3
 * times"). Durations are milliseconds or a number and a unit: `90d`, `12h`, `30m`, `2w`.
 */
export interface ArchivePolicy {
  /** Written (created, or last updated) longer ago than this. */
  readonly olderThan?: number | string;
  /** Recalled fewer times than this. */
  readonly recallCountBelow?: number;
  /** Not recalled for this long (never recalled: counted from when it was written). */
  readonly notRecalledSince?: number | string;
}

/** An archive policy checked, its durations in milliseconds. */
export interface ValidArchivePolicy {
  readonly olderThanMs?: number;
  readonly recallCountBelow?: number;
  readonly notRecalledSinceMs?: number;
}

/** What maintain() does with an expired record: move it to `archive` (default) or forget it. */
export type ExpiredAction = 'archive' | 'forget';

/** One record maintain() moved or deleted, and why. */
export interface MaintainChange {
  readonly id: string;
  /** `archive`: moved to the archive layer; `forget`: deleted. */
  readonly action: 'archive' | 'forget';
  /** `expired`: its expiresAt passed; `policy`: it met the archive policy. */
  readonly reason: 'expired' | 'policy';
  /** In words: when it expired, or which criteria it met. */
  readonly detail: string;
}

/** What maintain() did. */
export interface MaintainReport {
  readonly archived: number;
  readonly forgotten: number;
  /** Each record moved or deleted, and why (the first 1,000; the counts above are complete). */
  readonly changes: readonly MaintainChange[];
}

/** The options of maintain(): the store's own (openStore) by default. */
export interface MaintainOptions {
  readonly policy?: ArchivePolicy;
  readonly expired?: ExpiredAction;
}

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
/** A hundred years: a longer duration is a mistake. */
const MAX_DURATION_MS = 100 * 365 * 86_400_000;

export function validateArchivePolicy(value: unknown, field: string): ValidArchivePolicy | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new StoreValidationError(field, `expected an object of criteria, got ${describeValue(value)}`);
  const given = value as Record<string, unknown>;
  for (const name of Object.keys(given)) {
    if (name !== 'olderThan' && name !== 'recallCountBelow' && name !== 'notRecalledSince') throw new StoreValidationError(`${field}.${name}`, 'is not a criterion of an archive policy (olderThan, recallCountBelow, notRecalledSince)');
  }
  const policy: { olderThanMs?: number; recallCountBelow?: number; notRecalledSinceMs?: number } = {};
  if (given['olderThan'] !== undefined) policy.olderThanMs = duration(given['olderThan'], `${field}.olderThan`);
  if (given['notRecalledSince'] !== undefined) policy.notRecalledSinceMs = duration(given['notRecalledSince'], `${field}.notRecalledSince`);
  const below = given['recallCountBelow'];
  if (below !== undefined) {
    if (typeof below !== 'number' || !Number.isSafeInteger(below) || below < 1) throw new StoreValidationError(`${field}.recallCountBelow`, `expected a whole number of 1 or more, got ${describeValue(below)}`);
    policy.recallCountBelow = below;
  }
  if (Object.keys(policy).length === 0) throw new StoreValidationError(field, 'names no criterion (olderThan, recallCountBelow, notRecalledSince)');
  return Object.freeze(policy);
}

export function validateExpiredAction(value: unknown, field: string): ExpiredAction {
  if (value === undefined) return 'archive';
  if (value !== 'archive' && value !== 'forget') throw new StoreValidationError(field, `expected 'archive' or 'forget', got ${describeValue(value)}`);
  return value;
}

/** Milliseconds, or a number and a unit (ms, s, m, h, d, w): `90d`. */
export function duration(value: unknown, field: string): number {
  let ms = Number.NaN;
  if (typeof value === 'number') ms = value;
  else if (typeof value === 'string') {
    const match = /^\s*(\d+)\s*(ms|s|m|h|d|w)\s*$/.exec(value);
    if (match !== null) ms = Number(match[1]) * (UNIT_MS[match[2] as string] as number);
  }
  if (!Number.isSafeInteger(ms) || ms < 1 || ms > MAX_DURATION_MS) {
    throw new StoreValidationError(field, `expected a duration: milliseconds, or a number and a unit such as 90d, 12h, 30m, 2w (at most 100 years), got ${describeValue(value)}`);
  }
  return ms;
}

/** The criteria of a policy in words, for a change's detail. */
export function describePolicy(policy: ValidArchivePolicy): string {
  const parts: string[] = [];
  if (policy.olderThanMs !== undefined) parts.push(`written more than ${describeDuration(policy.olderThanMs)} ago`);
  if (policy.recallCountBelow !== undefined) parts.push(`recalled fewer than ${policy.recallCountBelow} times`);
  if (policy.notRecalledSinceMs !== undefined) parts.push(`not recalled for ${describeDuration(policy.notRecalledSinceMs)}`);
  return parts.join(', ');
}

function describeDuration(ms: number): string {
  for (const [unit, size] of [['w', UNIT_MS['w']], ['d', UNIT_MS['d']], ['h', UNIT_MS['h']], ['m', UNIT_MS['m']], ['s', UNIT_MS['s']]] as const) {
    if (ms % (size as number) === 0) return `${ms / (size as number)}${unit}`;
  }
  return `${ms}ms`;
}
