/** Statistics shared by the bench entry points (bench/run.ts, bench/compression-run.ts). */

/** The nearest-rank `p` quantile (0 < p ≤ 1) of samples already sorted ascending. */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}
