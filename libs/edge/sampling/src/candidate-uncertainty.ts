import type { SamplingPolicy, UncertaintyMeasure } from './sampling-policy';
import type { ScoredLabel, SelectionCandidate } from './selection-candidate';
import { anomalyUncertainty, detectionUncertainty, entropy, leastConfidence, margin } from './uncertainty';

export type UncertaintyReason = UncertaintyMeasure | 'anomaly_near_threshold' | 'detection_near_threshold';

export interface CandidateUncertainty {
  /** In [0, 1], 1 = most unsure. */
  value: number;
  reason: UncertaintyReason;
}

const CLASSIFICATION_MEASURES: Record<UncertaintyMeasure, (scores: readonly ScoredLabel[]) => number> = {
  least_confidence: leastConfidence,
  margin,
  entropy,
};

/** The model manifest's default scoreThreshold, for callers that do not pass theirs. */
const DEFAULT_DETECTION_SCORE_THRESHOLD = 0.3;

/** How unsure the model was about one inspection, by the measure its task calls for. */
export function candidateUncertainty(
  candidate: Pick<SelectionCandidate, 'task' | 'prediction' | 'detectionScoreThreshold'>,
  policy: Pick<SamplingPolicy, 'measure' | 'anomalyBand' | 'detectionBand'>,
): CandidateUncertainty {
  const { prediction } = candidate;
  switch (candidate.task) {
    case 'classification':
      return { value: CLASSIFICATION_MEASURES[policy.measure](prediction.scores), reason: policy.measure };
    case 'anomaly':
      return {
        // Without an anomaly score nothing is near the threshold; only the random share can pick it.
        value: prediction.anomaly ? anomalyUncertainty(prediction.anomaly.normalized, policy.anomalyBand) : 0,
        reason: 'anomaly_near_threshold',
      };
    case 'detection':
      return {
        value: detectionUncertainty(prediction.boxes, candidate.detectionScoreThreshold ?? DEFAULT_DETECTION_SCORE_THRESHOLD, policy.detectionBand),
        reason: 'detection_near_threshold',
      };
  }
}
