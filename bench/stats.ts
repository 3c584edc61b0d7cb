// Order statistics over samples (milliseconds), and rounding for the report.

/** The q-quantile (nearest rank); NaN for no samples. */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? NaN;
}

export const median = (xs: readonly number[]): number => quantile(xs, 0.5);

/** `x` to `d` decimals; NaN stays NaN (written as null in results.json). */
export const round = (x: number, d = 2): number =>
  Number.isFinite(x) ? Number(x.toFixed(d)) : NaN;
