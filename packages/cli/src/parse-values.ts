import { InvalidArgumentError } from 'commander';

/**
 * Parsers for option values, in commander's form `(value, previous) => parsed`. A value that
 * does not parse throws commander's InvalidArgumentError, which commander reports with the
 * option's name, and which exits with the usage code (2) before any store is opened.
 */

/** `--tag a --tag b` gathers every value. */
export function collect(value: string, previous: readonly string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** A whole number from `min` to `max`. */
export function integerParser(min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    const number = /^[+-]?\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(number) || number < min || number > max) {
      throw new InvalidArgumentError(max === Number.MAX_SAFE_INTEGER ? `expected a whole number of ${min} or more` : `expected a whole number from ${min} to ${max}`);
    }
    return number;
  };
}

const UNIT_MS: Readonly<Record<string, number>> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * A point in time: an ISO 8601 time (`2025-06-01`, `2025-06-01T12:00:00Z`), epoch milliseconds,
 * or an age (`90s`, `30m`, `12h`, `7d`, `2w`: that long before now). Returned as an ISO string,
 * which the store takes as it is.
 *
 * ```ts
 * parseTime('7d'); // a week ago, e.g. '2025-05-25T09:30:00.000Z'
 * ```
 */
export function parseTime(value: string, now: number = Date.now()): string {
  const text = value.trim();
  const age = /^(\d+)\s*([smhdw])$/.exec(text);
  if (age !== null) return new Date(now - Number(age[1]) * UNIT_MS[age[2]!]!).toISOString();
  const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (text === '' || !Number.isFinite(ms)) {
    throw new InvalidArgumentError('expected an ISO 8601 time (2025-06-01T12:00:00Z), epoch milliseconds, or an age such as 30m, 12h, 7d');
  }
  return new Date(ms).toISOString();
}

/** `--metadata '{"source":"runbook"}'`: a JSON object (its values are checked by the store). */
export function parseJsonObject(value: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (error) {
    throw new InvalidArgumentError(`not JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new InvalidArgumentError('expected a JSON object, such as {"source":"runbook"}');
  return parsed as Record<string, unknown>;
}

/** `--ids a,b,c`: record ids separated by commas (spaces around them are dropped). */
export function parseIdList(value: string): string[] {
  const ids = value
    .split(',')
    .map((id) => id.trim())
    .filter((id) => id !== '');
  if (ids.length === 0) throw new InvalidArgumentError('expected record ids separated by commas');
  return ids;
}

/** `--ttl 7d`: a duration, as milliseconds (a number and a unit: ms, s, m, h, d, w; or bare milliseconds). */
export function parseDuration(value: string): number {
  const match = /^\s*(\d+)\s*(ms|s|m|h|d|w)?\s*$/.exec(value);
  const ms = match === null ? Number.NaN : Number(match[1]) * (match[2] === undefined || match[2] === 'ms' ? 1 : (UNIT_MS[match[2]] as number));
  if (!Number.isSafeInteger(ms) || ms < 1) throw new InvalidArgumentError('expected a duration: a number and a unit such as 90s, 30m, 12h, 7d, 2w (or milliseconds)');
  return ms;
}

/** `--expires-at 2026-06-01T12:00:00Z`: a point in time (ISO 8601 or epoch ms), as an ISO string. Not an age: an expiry "7d" ago would be a mistake. */
export function parseInstant(value: string): string {
  const text = value.trim();
  const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (text === '' || !Number.isFinite(ms) || /^\d+\s*[smhdw]$/.test(text)) {
    throw new InvalidArgumentError('expected an ISO 8601 time (2026-06-01T12:00:00Z) or epoch milliseconds (for a time from now, use --ttl 7d)');
  }
  return new Date(ms).toISOString();
}
