/**
 * One simulated run of the loop: a random seed set is labeled, the
 * product's trainer trains a head on the labels so far, the head answers
 * for the pool and the test crops, and the strategy picks the next round's
 * labels from the pool's answers. The labels are the crops' true classes,
 * as a perfect labeler would give them.
 */
import type { TrainingRecipe } from '@loupe/api-contracts';
import { evaluate, headProbabilities, type LinearHead, trainHead } from '@loupe/trainer';
import { pairShare } from './crop-dataset';
import { answerUncertainty, PoolMemory, type PoolItem, selectBatch, type Strategy } from './pool-selection';

export interface LabeledSet {
  /** Stable ids: which labels land in the validation split hangs on them. */
  ids: readonly string[];
  features: readonly Float32Array[];
  labels: readonly number[];
  stations: readonly string[];
}

export interface LoopSettings {
  classes: readonly string[];
  featureOutput: string;
  recipe: TrainingRecipe;
  seedLabels: number;
  roundLabels: number;
  maxLabels: number;
  /** Stop once test accuracy reaches it: only the labels needed to get there are measured. */
  stopAtAccuracy: number;
}

export interface LoopPoint {
  labels: number;
  accuracy: number;
}

export interface LoopRun {
  curve: LoopPoint[];
  trainSeconds: number;
  trainings: number;
}

// The share of labels the trainer validates on (L2 choice, temperature), as a training run splits a dataset.
const VAL_SHARE = 0.2;

/** Trains on the labeled pool items, the validation split chosen by id hash; a split that would leave train with one class is not made. */
export function trainOn(pool: LabeledSet, indices: readonly number[], settings: Pick<LoopSettings, 'classes' | 'featureOutput' | 'recipe'>): LinearHead {
  const isVal = (index: number) => pairShare(pool.ids[index]!) < VAL_SHARE;
  const trainIndices = indices.filter((index) => !isVal(index));
  const split = new Set(trainIndices.map((index) => pool.labels[index])).size >= 2;
  const pick = (chosen: readonly number[]) => ({ features: chosen.map((i) => pool.features[i]!), labels: chosen.map((i) => pool.labels[i]!) });
  return trainHead({
    classes: settings.classes,
    featureOutput: settings.featureOutput,
    train: pick(split ? trainIndices : indices),
    val: pick(split ? indices.filter(isVal) : []),
    recipe: settings.recipe,
  }).head;
}

export function accuracyOn(head: LinearHead, test: LabeledSet): number {
  return evaluate(
    head.classes,
    test.features.map((vector) => headProbabilities(head, vector)),
    test.labels,
  ).accuracy;
}

/** mulberry32: seeded, so a run can be repeated. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function simulateLoop(pool: LabeledSet, test: LabeledSet, strategy: Strategy, seed: number, settings: LoopSettings): LoopRun {
  const random = seededRandom(seed);
  const items: PoolItem[] = pool.features.map((features, i) => ({ features, station: pool.stations[i]! }));
  const memory = new PoolMemory(items);
  // The seed set is random for every strategy, the same for the same seed: runs differ only in what they choose.
  selectBatch(memory, new Float64Array(items.length), settings.seedLabels, { ...strategy, randomShare: 1 }, random);
  const curve: LoopPoint[] = [];
  let trainSeconds = 0;
  for (;;) {
    const started = performance.now();
    const head = trainOn(pool, [...memory.labeled], settings);
    trainSeconds += (performance.now() - started) / 1000;
    const accuracy = accuracyOn(head, test);
    curve.push({ labels: memory.labeled.size, accuracy });
    if (accuracy >= settings.stopAtAccuracy || memory.labeled.size >= Math.min(settings.maxLabels, items.length)) break;
    const uncertainties = new Float64Array(items.length);
    // Random labeling and spread alone never read the answers.
    const readsAnswers = strategy.randomShare < 1 && strategy.diversity < 1;
    for (let i = 0; readsAnswers && i < items.length; i++) {
      if (!memory.labeled.has(i)) uncertainties[i] = answerUncertainty(settings.classes, headProbabilities(head, pool.features[i]!), strategy.measure);
    }
    const count = Math.min(settings.roundLabels, settings.maxLabels - memory.labeled.size);
    selectBatch(memory, uncertainties, count, strategy, random);
  }
  return { curve, trainSeconds, trainings: curve.length };
}
