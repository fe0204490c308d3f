import { candidateUncertainty, type UncertaintyReason } from './candidate-uncertainty';
import { selectionValue } from './feature-spread';
import type { SamplingPolicy } from './sampling-policy';
import type { SelectionCandidate } from './selection-candidate';
import { SelectionHistory } from './selection-history';
import { SelectionMemory } from './selection-memory';

export type SelectionReasonName = UncertaintyReason | 'random_calibration';
/** `redundant`: unsure enough, but too close in feature space to a recent selection. */
export type SkipReason = 'confident' | 'redundant' | 'hourly_budget' | 'daily_bytes' | 'class_cap' | 'near_duplicate';

export type SelectionDecision =
  | {
      selected: true;
      /** In [0, 1]; higher is more valuable to label, so uploaded first. */
      priority: number;
      reason: SelectionReasonName;
      uncertainty: number;
      /**
       * The uncertainty reached minUncertainty, whatever picked it: what a
       * model's uncertainty rate counts, so neither spread nor the random
       * draw moves that rate.
       */
      uncertain: boolean;
    }
  | { selected: false; skipped: SkipReason };

export type Selection = Extract<SelectionDecision, { selected: true }>;

/** The first step's answer; a skip says too whether the model was unsure. */
export type PickDecision = Selection | { selected: false; skipped: 'confident' | 'redundant'; uncertain: boolean };

export interface SampleSelectorOptions {
  /** Milliseconds on a clock that never goes back. */
  now?: () => number;
  /** Uniform in [0, 1). */
  random?: () => number;
}

// Calibration picks measure how the uncertainty picks compare with the rest;
// they wait behind every uncertainty pick in the outbox.
const CALIBRATION_PRIORITY = 0.05;
const MAX_STATIONS = 256;

/**
 * Decides which inspections a device uploads for labeling: those its model
 * was unsure about and, when the model gives feature vectors, unlike the
 * station's recent selections; plus a small random share of all
 * inspections; within the policy's budgets. Only accepted selections spend
 * a budget or enter the memory of recent selections.
 */
export class SampleSelector {
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly history = new SelectionHistory();
  private readonly memory = new SelectionMemory(MAX_STATIONS);

  constructor(
    private policy: SamplingPolicy,
    options: SampleSelectorOptions = {},
  ) {
    // Not Date.now: a device without a battery-backed clock jumps when it first
    // syncs, which would free the budgets early or hold them spent.
    this.now = options.now ?? (() => performance.now());
    this.random = options.random ?? Math.random;
  }

  /** Applies from the next candidate on; what was already selected stays counted. */
  setPolicy(policy: SamplingPolicy): void {
    this.policy = policy;
  }

  /** Both steps at once, for callers that have the image hash at hand. */
  consider(candidate: SelectionCandidate): SelectionDecision {
    const picked = this.pick(candidate);
    return picked.selected ? this.admit(candidate, picked) : { selected: false, skipped: picked.skipped };
  }

  /**
   * First step: is this inspection worth uploading at all? Cheap, with no
   * image work, so a device hashes only the images this picks. Spread only
   * ever holds back an uncertain inspection; it never picks a sure one.
   */
  pick(candidate: Omit<SelectionCandidate, 'imageHash'>): PickDecision {
    const { policy } = this;
    this.memory.touch(candidate.stationId);
    const uncertainty = candidateUncertainty(candidate, policy);
    const uncertain = uncertainty.value >= policy.minUncertainty;
    // Drawn for every inspection, before its answer counts, so the random picks stay a fair sample.
    if (policy.randomShare > 0 && this.random() < policy.randomShare) {
      return { selected: true, priority: CALIBRATION_PRIORITY, reason: 'random_calibration', uncertainty: uncertainty.value, uncertain };
    }
    if (!uncertain) return { selected: false, skipped: 'confident', uncertain };
    const novelty = candidate.features && policy.diversity > 0 ? this.memory.novelty(candidate.stationId, candidate.features, policy) : undefined;
    const value = selectionValue(uncertainty.value, novelty, policy.diversity);
    if (value < policy.minUncertainty) return { selected: false, skipped: 'redundant', uncertain };
    return { selected: true, priority: value, reason: uncertainty.reason, uncertainty: uncertainty.value, uncertain };
  }

  /** Second step, for a pick: near duplicates and budgets. An admitted selection is counted. */
  admit(candidate: SelectionCandidate, selection: Selection): SelectionDecision {
    const now = this.now();
    const skipped = this.refusal(candidate, now);
    if (skipped) return { selected: false, skipped };
    this.history.record({ at: now, className: candidate.prediction.verdict, bytes: candidate.imageBytes });
    this.memory.remember(candidate.stationId, { hash: candidate.imageHash, ...(candidate.features ? { features: candidate.features } : {}) }, this.policy);
    return selection;
  }

  private refusal(candidate: SelectionCandidate, now: number): SkipReason | undefined {
    const { policy } = this;
    if (this.memory.isNearDuplicate(candidate.stationId, candidate.imageHash, policy)) return 'near_duplicate';
    const lastHour = this.history.lastHour(now);
    const sameClass = lastHour.filter((selection) => selection.className === candidate.prediction.verdict);
    if (sameClass.length >= policy.perClassPerHour) return 'class_cap';
    if (lastHour.length >= policy.samplesPerHour) return 'hourly_budget';
    if (this.history.bytesLastDay(now) + candidate.imageBytes > policy.bytesPerDay) return 'daily_bytes';
    return undefined;
  }
}
