// Summaries the benchmarks share.

/** Nearest rank: the smallest sample with at least p (0 < p <= 1) of the samples at or below it. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) throw new RangeError("no samples");
  if (!(p > 0 && p <= 1)) throw new RangeError(`percentile ${p} is not in (0, 1]`);
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.ceil(p * sorted.length) - 1]!;
}

export interface Distribution {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** p50/p95/p99 (nearest rank) and the maximum; null without samples. */
export function distribution(samples: readonly number[]): Distribution | null {
  if (samples.length === 0) return null;
  return {
    count: samples.length,
    p50: percentile(samples, 0.5),
    p95: percentile(samples, 0.95),
    p99: percentile(samples, 0.99),
    max: Math.max(...samples),
  };
}
