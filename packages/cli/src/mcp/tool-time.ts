import { InvalidArgumentError } from 'commander';
import { StoreValidationError } from '@memhub/store';
import { parseDuration, parseTime } from '../parse-values.js';

/**
 * A time argument of a tool (`since`, `until`, `olderThan`) as the store takes it. A string is read
 * as the command line reads `--since`: an ISO 8601 time, epoch milliseconds, or an age (30m, 12h,
 * 7d); a number is epoch milliseconds. parseTime's refusal is a commander error, meant for a
 * command line; here it becomes the store's StoreValidationError, which names the field and comes
 * back to the model as an error result like every other refused argument.
 */
export function storeTime(value: string | number, field: string): string | number {
  if (typeof value === 'number') return value;
  try {
    return parseTime(value);
  } catch (error) {
    if (error instanceof InvalidArgumentError) throw new StoreValidationError(field, error.message);
    throw error;
  }
}

/** A duration argument (`ttl`, a policy's `olderThan`): a number of milliseconds, or a number and a unit (7d, 12h), as the command line's `--ttl`. */
export function storeDuration(value: string | number, field: string): number {
  if (typeof value === 'number') return value;
  try {
    return parseDuration(value);
  } catch (error) {
    if (error instanceof InvalidArgumentError) throw new StoreValidationError(field, error.message);
    throw error;
  }
}

/** An absolute time argument (`expiresAt`): an ISO 8601 time or epoch milliseconds; null passes through (clear it). */
export function storeInstant(value: string | number | null, field: string): string | number | null {
  if (value === null || typeof value === 'number') return value;
  const ms = /^\d+$/.test(value.trim()) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(ms)) throw new StoreValidationError(field, 'expected an ISO 8601 time (2026-06-01T12:00:00Z) or epoch milliseconds');
  return ms;
}
