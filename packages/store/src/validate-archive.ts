import { StoreValidationError } from './errors.js';
import { validateTime } from './validate-recall.js';
import { INPUT_LIMITS } from './input-limits.js';

/** Which records archive() moves from the `application` layer to `archive`: exactly one criterion. */
export type ArchiveSelector =
  | { readonly ids: readonly string[] }
  | { readonly olderThan: Date | number | string }
  | { readonly recallCountBelow: number };

/**
 * `within`: only records at this contextPath or below it (a scoped store's archive by a
 * criterion; undefined: anywhere).
 */
export type ValidArchiveSelector =
  | { readonly ids: readonly string[] }
  | { readonly createdBefore: number; readonly within?: string }
  | { readonly recallCountBelow: number; readonly within?: string };

const MAX_IDS = INPUT_LIMITS.maxIds;

/** A list of record ids (archive's `ids`, restore's argument): deduplicated, at most MAX_IDS. */
export function validateIds(ids: unknown): string[] {
  if (!Array.isArray(ids)) throw new StoreValidationError('ids', 'expected an array of record ids');
  if (ids.length > MAX_IDS) throw new StoreValidationError('ids', `has more than ${MAX_IDS} ids`);
  // By index, not forEach: forEach passes over the holes of a sparse array, which would drop them unseen.
  for (let index = 0; index < ids.length; index += 1) {
    const id: unknown = ids[index];
    if (typeof id !== 'string' || id === '') throw new StoreValidationError(`ids[${index}]`, 'expected a non-empty string');
  }
  return [...new Set(ids as string[])];
}

export function validateArchiveSelector(selector: unknown): ValidArchiveSelector {
  if (typeof selector !== 'object' || selector === null || Array.isArray(selector)) {
    throw new StoreValidationError('selector', 'expected { ids }, { olderThan } or { recallCountBelow }');
  }
  const keys = Object.keys(selector);
  if (keys.length !== 1) {
    throw new StoreValidationError('selector', `expected exactly one of ids, olderThan, recallCountBelow; got ${keys.join(', ') || 'none'}`);
  }
  const given = selector as Record<string, unknown>;
  if ('ids' in given) return { ids: validateIds(given['ids']) };
  if ('olderThan' in given) {
    const createdBefore = validateTime(given['olderThan'], 'olderThan');
    if (createdBefore === undefined) throw new StoreValidationError('olderThan', 'expected a Date, epoch milliseconds or an ISO 8601 time');
    return { createdBefore };
  }
  if ('recallCountBelow' in given) {
    const value = given['recallCountBelow'];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
      throw new StoreValidationError('recallCountBelow', 'expected an integer of 0 or more');
    }
    return { recallCountBelow: value };
  }
  throw new StoreValidationError(keys[0] ?? 'selector', 'is not an archive criterion (use ids, olderThan or recallCountBelow)');
}
