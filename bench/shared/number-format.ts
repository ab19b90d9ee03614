/** 1234567.8 -> "1,234,568": throughputs are read by magnitude, not by their decimals. */
export function formatCount(value: number): string {
  return Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '-';
}

/** A ratio with about two significant digits: "0.0013x", "0.68x", "1.8x", "12x", "340x". */
export function formatRatio(value: number): string {
  if (!Number.isFinite(value)) return '-';
  if (value < 1) return `${Number(value.toPrecision(2))}x`;
  return value < 10 ? `${value.toFixed(1)}x` : `${Math.round(value)}x`;
}

/** A duration given in microseconds, in the unit that keeps it short: "37 us", "1.24 ms", "2.1 s". */
export function formatMicroseconds(us: number): string {
  if (!Number.isFinite(us)) return '-';
  if (us < 1_000) return `${us < 10 ? us.toFixed(1) : Math.round(us)} us`;
  if (us < 1_000_000) return `${(us / 1_000).toFixed(us < 10_000 ? 2 : 1)} ms`;
  return `${(us / 1_000_000).toFixed(2)} s`;
}

/** A fraction as a whole percentage: 0.0345 -> "3%" ("<1%" rather than a misleading "0%"). */
export function formatPercent(fraction: number): string {
  if (!Number.isFinite(fraction)) return '-';
  const percent = fraction * 100;
  if (percent > 0 && percent < 1) return '<1%';
  return `${Math.round(percent)}%`;
}
