import { InvalidArgumentError } from 'commander';
import { StoreValidationError } from '@memhub/store';
import { parseTime } from '../parse-values.js';

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
