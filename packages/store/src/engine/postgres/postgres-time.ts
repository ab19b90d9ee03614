/**
 * A time bound of recall() or archive() as the integer epoch milliseconds that `created_at` holds.
 * Times are whole milliseconds, so `>= t` and `< t` mean the same as `>= ceil(t)` and
 * `< ceil(t)`; bounds past any JavaScript date are clamped, so that the parameter is always a
 * bigint and the index on created_at serves the comparison.
 */
export function millisecondBound(ms: number): number {
  const LIMIT = 8_640_000_000_000_001;
  return Math.min(LIMIT, Math.max(-LIMIT, Math.ceil(ms)));
}
