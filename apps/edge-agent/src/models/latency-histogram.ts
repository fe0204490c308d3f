// Bucket bounds grow by 5% from 0.05 ms to past 60 s: a quantile read from
// them is within 5% of the true value, in a few hundred counters however
// many requests a model serves.
const GROWTH = 1.05;
const SMALLEST_MS = 0.05;
const BOUNDS: readonly number[] = (() => {
  const bounds: number[] = [];
  for (let bound = SMALLEST_MS; bound < 60_000 * GROWTH; bound *= GROWTH) bounds.push(bound);
  return bounds;
})();

/** Latencies in fixed memory, for percentiles since a model became active. */
export class LatencyHistogram {
  private readonly counts = new Array<number>(BOUNDS.length + 1).fill(0);
  private total = 0;

  record(ms: number): void {
    this.counts[bucketOf(ms)]!++;
    this.total++;
  }

  /** The upper bound of the bucket holding quantile `q` (0..1); 0 with nothing recorded. */
  quantile(q: number): number {
    if (this.total === 0) return 0;
    const rank = Math.ceil(q * this.total);
    let seen = 0;
    for (let index = 0; index < this.counts.length; index++) {
      seen += this.counts[index]!;
      if (seen >= rank) return BOUNDS[Math.min(index, BOUNDS.length - 1)]!;
    }
    return BOUNDS[BOUNDS.length - 1]!;
  }
}

/** The first bucket whose bound is at least `ms` (BOUNDS.length past the last): a binary search, as this runs for every inspection. */
function bucketOf(ms: number): number {
  let low = 0;
  let high = BOUNDS.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (BOUNDS[middle]! < ms) low = middle + 1;
    else high = middle;
  }
  return low;
}
