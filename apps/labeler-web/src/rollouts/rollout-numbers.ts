/** `count` of `of` as a share, or null when there is nothing to divide by. */
export const rate = (count: number, of: number): number | null => (of === 0 ? null : count / of);

/**
 * A rate as a percentage: one decimal, two below 1 % where error rates live
 * (`0.20%`, `5.0%`), a dash when there is no rate.
 */
export function percent(value: number | null): string {
  if (value === null) return '-';
  const points = value * 100;
  return `${points.toFixed(Math.abs(points) < 1 ? 2 : 1)}%`;
}

/** A difference of two rates, in percentage points: `+0.10 pp`. */
export function percentagePoints(difference: number): string {
  const points = difference * 100;
  return `${points < 0 ? '−' : '+'}${Math.abs(points).toFixed(2)} pp`;
}

/** A ratio of candidate to baseline: `×1.20`. */
export const times = (ratio: number): string => `×${ratio.toFixed(2)}`;

export const milliseconds = (ms: number): string => `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`;

/** Digits grouped by thousands in every locale, so columns compare at a glance. */
export const count = (n: number): string => n.toLocaleString('en-US');

/** Each bin's share of the histogram, 0 to 1; all zero when it is empty. */
export function histogramShares(histogram: readonly number[]): number[] {
  const total = histogram.reduce((sum, n) => sum + n, 0);
  return histogram.map((n) => (total === 0 ? 0 : n / total));
}

/** A bake time the way a plan is read: `45 s`, `10 min`, `1 h 30 min`, or `none`. */
export function duration(seconds: number): string {
  if (seconds === 0) return 'none';
  if (seconds < 60) return `${seconds} s`;
  const hours = Math.floor(seconds / 3_600);
  const minutes = Math.floor((seconds % 3_600) / 60);
  const rest = seconds % 60;
  return [hours > 0 ? `${hours} h` : '', minutes > 0 ? `${minutes} min` : '', rest > 0 ? `${rest} s` : ''].filter(Boolean).join(' ');
}
