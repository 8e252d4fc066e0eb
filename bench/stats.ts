/** A figure measured over repeated whole runs: the median is what the report compares. */
export interface Summary {
  median: number;
  min: number;
  max: number;
  samples: number[];
}

export function summarize(samples: number[]): Summary {
  if (samples.length === 0) throw new Error('no samples to summarize');
  const sorted = [...samples].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  return {median, min: sorted[0]!, max: sorted.at(-1)!, samples};
}

/** How the measured median compares with its baseline's, both taken in the same run. */
export function ratio(measured: Summary, baseline: Summary): number {
  return measured.median / baseline.median;
}

/** Nearest-rank percentile, for latencies collected one request at a time. */
export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) throw new Error('no samples for a percentile');
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
