import type { LoopPoint } from './learning-loop';

/**
 * The labels at which a learning curve first reaches `target`, read
 * linearly between the two rounds either side; the first round's labels
 * when it starts there; undefined when it never gets there.
 */
export function labelsToReach(curve: readonly LoopPoint[], target: number): number | undefined {
  const at = curve.findIndex((point) => point.accuracy >= target);
  if (at < 0) return undefined;
  const reached = curve[at]!;
  const before = curve[at - 1];
  if (!before) return reached.labels;
  return before.labels + ((target - before.accuracy) / (reached.accuracy - before.accuracy)) * (reached.labels - before.labels);
}

/** The median over seeds, a seed that never reached counting as more than any that did; undefined when the median did not reach. */
export function medianLabels(perSeed: readonly (number | undefined)[]): number | undefined {
  if (perSeed.length === 0) return undefined;
  const sorted = perSeed.map((labels) => labels ?? Infinity).sort((a, b) => a - b);
  const middle = sorted.length / 2;
  const median = sorted.length % 2 === 1 ? sorted[Math.floor(middle)]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  return Number.isFinite(median) ? median : undefined;
}

/** 1 - strategy / random: the share of random's labels a strategy saves; undefined unless both reached. */
export function labelSavings(strategy: number | undefined, random: number | undefined): number | undefined {
  return strategy === undefined || random === undefined ? undefined : 1 - strategy / random;
}
