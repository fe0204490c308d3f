import { type Crop, type Protocol, splitCrops } from './crop-dataset';
import { accuracyOn, type LabeledSet, type LoopRun, type LoopSettings, simulateLoop, trainOn } from './learning-loop';
import { labelSavings, labelsToReach, medianLabels } from './label-curves';
import type { Strategy } from './pool-selection';
import { RANDOM_STRATEGY } from './strategies';

/** Labels needed relative to the whole pool's accuracy. */
const TARGET_SHARE = 0.95;

export interface ProtocolResult {
  fullAccuracy: number;
  /** Median labels to 95 % of fullAccuracy, by strategy name; absent when the median seed never got there. */
  labelsTo95: Map<string, number | undefined>;
  /** 1 - strategy / random at 95 %, by strategy name. */
  savings: Map<string, number | undefined>;
  runs: LoopRun[];
}

function labeledSet(crops: readonly Crop[], vectorOf: Map<string, Float32Array>): LabeledSet {
  return {
    ids: crops.map((crop) => crop.id),
    features: crops.map((crop) => vectorOf.get(crop.id)!),
    labels: crops.map((crop) => crop.label),
    stations: crops.map((crop) => crop.group),
  };
}

/** Every strategy, every seed, on one protocol's split; the figures of its summary. */
export function runProtocol(
  protocol: Protocol,
  crops: readonly Crop[],
  vectors: readonly Float32Array[],
  options: { settings: Omit<LoopSettings, 'stopAtAccuracy'>; strategies: readonly Strategy[]; seeds: number; progress: (message: string) => void },
): ProtocolResult {
  const { settings, progress } = options;
  const vectorOf = new Map(crops.map((crop, i) => [crop.id, vectors[i]!]));
  const split = splitCrops(crops, protocol);
  const pool = labeledSet(split.pool, vectorOf);
  const test = labeledSet(split.test, vectorOf);
  const started = performance.now();
  const fullAccuracy = accuracyOn(trainOn(pool, pool.ids.map((_, i) => i), settings), test);
  const target = TARGET_SHARE * fullAccuracy;
  progress(
    `${protocol}: pool ${pool.ids.length} crops, test ${test.ids.length}; whole pool: accuracy ${fullAccuracy.toFixed(3)} ` +
      `(trained in ${((performance.now() - started) / 1000).toFixed(1)} s); target ${target.toFixed(3)}`,
  );
  const labelsTo95 = new Map<string, number | undefined>();
  const runs: LoopRun[] = [];
  for (const strategy of options.strategies) {
    const perSeed = Array.from({ length: options.seeds }, (_, seed) => {
      const run = simulateLoop(pool, test, strategy, seed + 1, { ...settings, stopAtAccuracy: target });
      runs.push(run);
      const labels = labelsToReach(run.curve, target);
      const last = run.curve.at(-1)!;
      progress(
        `${protocol} ${strategy.name} seed ${seed + 1}: ${labels === undefined ? `not reached by ${last.labels} labels` : `${labels.toFixed(0)} labels`} ` +
          `(last accuracy ${last.accuracy.toFixed(3)}, ${run.trainings} trainings, ${run.trainSeconds.toFixed(1)} s training)`,
      );
      return labels;
    });
    labelsTo95.set(strategy.name, medianLabels(perSeed));
    progress(`${protocol} ${strategy.name}: median ${labelsTo95.get(strategy.name)?.toFixed(0) ?? 'not reached'} labels to ${target.toFixed(3)}`);
  }
  const random = labelsTo95.get(RANDOM_STRATEGY.name);
  const savings = new Map(options.strategies.map((strategy) => [strategy.name, labelSavings(labelsTo95.get(strategy.name), random)]));
  return { fullAccuracy, labelsTo95, savings, runs };
}
