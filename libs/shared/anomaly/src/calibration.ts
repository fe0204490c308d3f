export interface Calibration {
  threshold: number;
  /** Held-out good images the threshold was set on. */
  heldOut: number;
  /** The false-alarm rate asked for. */
  requestedFalseAlarmRate: number;
  /**
   * What the threshold guarantees: a new good image, exchangeable with the
   * held-out ones, scores at or above it with at most this probability.
   * Larger than requested when there were too few held-out images.
   */
  falseAlarmBound: number;
}

/**
 * The decision threshold for a stated false-alarm rate, from the scores of
 * held-out good images (split conformal): the ceil((1 - rate)(n + 1))-th
 * smallest score, nudged up so that it is itself a pass. With n held-out
 * images no rate below 1 / (n + 1) can be promised; then the largest score
 * is used and the bound says what holds.
 */
export function calibrateThreshold(scores: readonly number[], falseAlarmRate: number): Calibration {
  if (!(falseAlarmRate > 0 && falseAlarmRate < 1)) throw new RangeError(`a false-alarm rate lies strictly between 0 and 1, not ${falseAlarmRate}`);
  if (scores.length === 0) throw new RangeError('calibration needs at least one held-out good image');
  if (scores.some((score) => !Number.isFinite(score))) throw new RangeError('held-out scores must be finite numbers');
  const sorted = [...scores].sort((a, b) => a - b);
  const n = sorted.length;
  const rank = Math.min(n, Math.ceil((1 - falseAlarmRate) * (n + 1)));
  const threshold = nextAbove(sorted[rank - 1]!);
  return {
    threshold,
    heldOut: n,
    requestedFalseAlarmRate: falseAlarmRate,
    falseAlarmBound: (n + 1 - rank) / (n + 1),
  };
}

/** The smallest float32 above `value`: scores are float32, and a score equal to the threshold is an alarm. */
function nextAbove(value: number): number {
  const bits = new Float32Array([value]);
  const view = new Int32Array(bits.buffer);
  if (value === 0) return 1.401298464324817e-45;
  view[0] = value > 0 ? view[0]! + 1 : view[0]! - 1;
  return bits[0]!;
}
