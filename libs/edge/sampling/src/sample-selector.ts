import { candidateUncertainty, type UncertaintyReason } from './candidate-uncertainty';
import { DuplicateMemory } from './duplicate-memory';
import type { SamplingPolicy } from './sampling-policy';
import type { SelectionCandidate } from './selection-candidate';
import { SelectionHistory } from './selection-history';

export type SelectionReasonName = UncertaintyReason | 'random_calibration';
export type SkipReason = 'confident' | 'hourly_budget' | 'daily_bytes' | 'class_cap' | 'near_duplicate';

export type SelectionDecision =
  | {
      selected: true;
      /** In [0, 1]; higher is more valuable to label, so uploaded first. */
      priority: number;
      reason: SelectionReasonName;
      uncertainty: number;
    }
  | { selected: false; skipped: SkipReason };

export type Selection = Extract<SelectionDecision, { selected: true }>;

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
 * was unsure about, plus a small random share of the rest, within the
 * policy's budgets. Only accepted selections spend a budget or enter the
 * near-duplicate memory.
 */
export class SampleSelector {
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly history = new SelectionHistory();
  private readonly duplicates = new DuplicateMemory(MAX_STATIONS);

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
    const selection = this.pick(candidate);
    return selection ? this.admit(candidate, selection) : { selected: false, skipped: 'confident' };
  }

  /**
   * First step: is this inspection worth uploading at all? Cheap, with no
   * image work, so a device hashes only the images this picks.
   */
  pick(candidate: Omit<SelectionCandidate, 'imageHash'>): Selection | undefined {
    this.duplicates.touch(candidate.stationId);
    const { value, reason } = candidateUncertainty(candidate, this.policy);
    if (value >= this.policy.minUncertainty) return { selected: true, priority: value, reason, uncertainty: value };
    if (this.random() < this.policy.randomShare) {
      return { selected: true, priority: CALIBRATION_PRIORITY, reason: 'random_calibration', uncertainty: value };
    }
    return undefined;
  }

  /** Second step, for a pick: near duplicates and budgets. An admitted selection is counted. */
  admit(candidate: SelectionCandidate, selection: Selection): SelectionDecision {
    const now = this.now();
    const skipped = this.refusal(candidate, now);
    if (skipped) return { selected: false, skipped };
    this.history.record({ at: now, className: candidate.prediction.verdict, bytes: candidate.imageBytes });
    this.duplicates.remember(candidate.stationId, candidate.imageHash, this.policy);
    return selection;
  }

  private refusal(candidate: SelectionCandidate, now: number): SkipReason | undefined {
    const { policy } = this;
    if (this.duplicates.isNearDuplicate(candidate.stationId, candidate.imageHash, policy)) return 'near_duplicate';
    const lastHour = this.history.lastHour(now);
    const sameClass = lastHour.filter((selection) => selection.className === candidate.prediction.verdict);
    if (sameClass.length >= policy.perClassPerHour) return 'class_cap';
    if (lastHour.length >= policy.samplesPerHour) return 'hourly_budget';
    if (this.history.bytesLastDay(now) + candidate.imageBytes > policy.bytesPerDay) return 'daily_bytes';
    return undefined;
  }
}
