import type { TrainingRunDto } from '@loupe/api-contracts';

/** One finished run on the learning curve: how many labels it learned from, and how its challenger scored on the test split. */
export interface CurvePoint {
  runId: string;
  labels: number;
  accuracy: number;
  macroF1: number;
}

/** The runs that produced a challenger, fewest labels first (ties in the order they ran). */
export function learningCurve(runs: readonly TrainingRunDto[]): CurvePoint[] {
  return runs
    .filter((run) => run.state === 'succeeded')
    .flatMap(({ id, createdAt, dataset, challenger }) => (dataset && challenger ? [{ id, createdAt, labels: dataset.labels, challenger }] : []))
    .sort((a, b) => a.labels - b.labels || a.createdAt.localeCompare(b.createdAt))
    .map(({ id, labels, challenger }) => ({ runId: id, labels, accuracy: challenger.accuracy, macroF1: challenger.macroF1 }));
}

export type Scale = (value: number) => number;

/** Maps `domain` onto `range` linearly; a domain of one value maps to the middle of the range. */
export function linearScale([d0, d1]: readonly [number, number], [r0, r1]: readonly [number, number]): Scale {
  if (d1 === d0) return () => (r0 + r1) / 2;
  return (value) => r0 + ((value - d0) / (d1 - d0)) * (r1 - r0);
}

/** Round tick values from `min` to `max`: steps of 1, 2 or 5 times a power of ten, about `count` of them. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max) || max < min) return [];
  if (max === min) return [min];
  const rough = (max - min) / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((factor) => factor * power).find((candidate) => candidate >= rough) ?? 10 * power;
  const first = Math.ceil(min / step - 1e-9);
  const last = Math.floor(max / step + 1e-9);
  // Multiplying (not adding) keeps 0.1 + 0.2 from showing as 0.30000000000000004.
  return Array.from({ length: last - first + 1 }, (_, index) => Number(((first + index) * step).toPrecision(12)));
}

/**
 * The y range of a curve of scores: the scores with a margin, widened to whole
 * tenths and kept within 0 to 1, so a few points of gain are visible without
 * the axis pretending scores below 0 or above 1.
 */
export function scoreDomain(points: readonly CurvePoint[]): [number, number] {
  const scores = points.flatMap((point) => [point.accuracy, point.macroF1]);
  if (scores.length === 0) return [0, 1];
  const low = Math.max(0, Math.floor((Math.min(...scores) - 0.05) * 10) / 10);
  const high = Math.min(1, Math.ceil((Math.max(...scores) + 0.05) * 10) / 10);
  return [low, high];
}

/** An SVG path through the points, in order. */
export function linePath(points: readonly CurvePoint[], x: Scale, y: Scale, value: (point: CurvePoint) => number): string {
  return points.map((point, index) => `${index === 0 ? 'M' : 'L'}${x(point.labels).toFixed(1)},${y(value(point)).toFixed(1)}`).join(' ');
}
