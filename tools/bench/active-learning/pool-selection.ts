/**
 * The sampler's decision applied to a pool, as the benchmark's loop asks
 * for k labels a round: the product's uncertainty measures
 * (candidateUncertainty), spread (cosineDistance) and their mix
 * (selectionValue), plus a random share. Picks are greedy: each pick
 * enters the memory before the next is weighed, as a device's selector
 * remembers an admitted selection before it sees the next inspection.
 *
 * Unlike a device, whose memory holds each station's last
 * `duplicateMemory` selections, the pool's memory is every label so far
 * (per board group, the pool's station): a round is all a device would see
 * between two models, and forgetting within it would only add noise.
 */
import { candidateUncertainty, cosineDistance, selectionValue, type UncertaintyMeasure } from '@loupe/sampling';

export interface Strategy {
  name: string;
  measure: UncertaintyMeasure;
  /** selectionValue's weight of spread: 0 uncertainty alone, 1 spread alone. */
  diversity: number;
  /** Share of each round's labels picked uniformly at random (tagged random_calibration on a device). */
  randomShare: number;
}

export interface PoolItem {
  features: Float32Array;
  /** The station the item was seen at: its board group. */
  station: string;
}

/** Which pool items are labeled, and how far every item lies from the labeled ones of its station. */
export class PoolMemory {
  readonly labeled = new Set<number>();
  /** Per item: the cosine distance to the nearest labeled item of its station, 1 when there is none. */
  private readonly nearest: Float64Array;

  constructor(private readonly items: readonly PoolItem[]) {
    this.nearest = new Float64Array(items.length).fill(1);
  }

  novelty(index: number): number {
    return this.nearest[index]!;
  }

  label(index: number, trackSpread: boolean): void {
    this.labeled.add(index);
    if (!trackSpread) return;
    const picked = this.items[index]!;
    this.items.forEach((item, other) => {
      if (item.station !== picked.station || this.labeled.has(other) || this.nearest[other] === 0) return;
      this.nearest[other] = Math.min(this.nearest[other]!, cosineDistance(item.features, picked.features));
    });
  }
}

/** The uncertainty of one classifier answer, by the sampler's own measure. */
export function answerUncertainty(classes: readonly string[], probabilities: ArrayLike<number>, measure: UncertaintyMeasure): number {
  const scores = classes.map((label, k) => ({ label, score: probabilities[k]! }));
  const verdict = scores.reduce((top, score) => (score.score > top.score ? score : top)).label;
  return candidateUncertainty({ task: 'classification', prediction: { verdict, scores, boxes: [] } }, { measure, anomalyBand: 1, detectionBand: 1 }).value;
}

/**
 * Labels `count` more items of the pool in `memory`: the strategy's random
 * share first, then the rest by selection value, highest first. Returns the
 * picks in order, each with whether it was a random one.
 */
export function selectBatch(
  memory: PoolMemory,
  uncertainties: Float64Array,
  count: number,
  strategy: Strategy,
  random: () => number,
): { index: number; random: boolean }[] {
  const unlabeled = Array.from(uncertainties.keys()).filter((index) => !memory.labeled.has(index));
  const picks: { index: number; random: boolean }[] = [];
  const trackSpread = strategy.diversity > 0;
  const randomPicks = Math.min(Math.round(count * strategy.randomShare), unlabeled.length);
  for (let i = 0; i < randomPicks; i++) {
    const at = Math.floor(random() * unlabeled.length);
    const [index] = unlabeled.splice(at, 1) as [number];
    memory.label(index, trackSpread);
    picks.push({ index, random: true });
  }
  while (picks.length < count && unlabeled.length > 0) {
    let best = 0;
    let bestValue = -Infinity;
    unlabeled.forEach((index, at) => {
      const value = selectionValue(uncertainties[index]!, trackSpread ? memory.novelty(index) : undefined, strategy.diversity);
      if (value > bestValue) [best, bestValue] = [at, value];
    });
    const [index] = unlabeled.splice(best, 1) as [number];
    memory.label(index, trackSpread);
    picks.push({ index, random: false });
  }
  return picks;
}
