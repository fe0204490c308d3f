import type { ScoredBox, ScoredLabel } from './selection-candidate';

/**
 * How unsure a model is about one image, in [0, 1] where 1 is most unsure.
 *
 * Classification scores may be only the top k labels and then sum to less
 * than 1. The mass they leave out stays in one "other" bucket instead of
 * being spread over the listed labels: scaling a 0.40 / 0.35 top 2 up to
 * 0.53 / 0.47 would make the model look surer of its answer than it is.
 * Scores summing to more than 1 (independent sigmoid outputs) are scaled
 * down to sum to 1. No scores at all count as most unsure.
 */

interface Distribution {
  /** Probabilities of the listed labels, highest first. */
  labels: number[];
  /** The mass the listed labels leave out. */
  other: number;
}

// Float32 softmax outputs sum to 1 only within rounding; that residue is not
// an unlisted class.
const ROUNDING = 1e-6;

function distribution(scores: readonly ScoredLabel[]): Distribution {
  // A model emitting logits where probabilities were expected must not turn
  // sampling into NaN.
  const values = scores.map(({ score }) => (Number.isFinite(score) && score > 0 ? score : 0)).sort((a, b) => b - a);
  const total = values.reduce((sum, value) => sum + value, 0);
  return {
    labels: total > 1 ? values.map((value) => value / total) : values,
    other: total < 1 - ROUNDING ? 1 - total : 0,
  };
}

/** 1 - the top label's probability. */
export function leastConfidence(scores: readonly ScoredLabel[]): number {
  const { labels } = distribution(scores);
  return clamp01(1 - (labels[0] ?? 0));
}

/**
 * 1 - (top - runner-up). With a single listed label the runner-up is unknown;
 * it is taken as the whole "other" mass (at most the top score), which is
 * exact for two-class models and the cautious guess otherwise.
 */
export function margin(scores: readonly ScoredLabel[]): number {
  const { labels, other } = distribution(scores);
  const top = labels[0] ?? 0;
  const runnerUp = labels[1] ?? Math.min(other, top);
  return clamp01(1 - (top - runnerUp));
}

/**
 * Shannon entropy over the listed labels plus the "other" bucket when it
 * holds any mass, divided by the log of that number of buckets so a uniform
 * answer scores 1 however many classes the model has.
 */
export function entropy(scores: readonly ScoredLabel[]): number {
  const { labels, other } = distribution(scores);
  if (labels.length === 0) return 1;
  const buckets = other > 0 ? [...labels, other] : labels;
  if (buckets.length < 2) return 0;
  const nats = buckets.reduce((sum, p) => (p > 0 ? sum - p * Math.log(p) : sum), 0);
  return clamp01(nats / Math.log(buckets.length));
}

/**
 * How close an anomaly score divided by its threshold is to 1: 1 at the
 * threshold, falling linearly to 0 at `band` or more either side.
 */
export function anomalyUncertainty(normalized: number, band: number): number {
  return closeness(normalized, 1, band);
}

/**
 * The closeness to the score threshold of the box nearest to it: 1 at the
 * threshold, 0 at `band` or more away. An image without boxes scores 0.
 */
export function detectionUncertainty(boxes: readonly ScoredBox[], scoreThreshold: number, band: number): number {
  return boxes.reduce((highest, box) => Math.max(highest, closeness(box.score, scoreThreshold, band)), 0);
}

function closeness(value: number, target: number, band: number): number {
  if (!(band > 0)) throw new RangeError(`band must be greater than 0, got ${band}`);
  return clamp01(1 - Math.abs(value - target) / band);
}

/** Also maps NaN to 0, so a broken score never reads as uncertain. */
function clamp01(value: number): number {
  return value > 0 ? Math.min(value, 1) : 0;
}
