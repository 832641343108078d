/** Latency percentiles for the fleet report. */

/**
 * The p-th percentile (0-100) of `sorted` (ascending), interpolating linearly between the two
 * nearest ranks (the "linear" method of NumPy and R type 7), so small fleets get stable values.
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const pos = ((sorted.length - 1) * p) / 100;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** One decimal, as CONTRACT.md's example shows them. */
export const round1 = (n: number): number => Math.round(n * 10) / 10;

export function latencySummary(ms: readonly number[]): { p50: number; p95: number; p99: number } {
  const sorted = [...ms].sort((a, b) => a - b);
  return {
    p50: round1(percentile(sorted, 50)),
    p95: round1(percentile(sorted, 95)),
    p99: round1(percentile(sorted, 99)),
  };
}
