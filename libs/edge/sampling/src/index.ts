export { candidateUncertainty, type CandidateUncertainty, type UncertaintyReason } from './candidate-uncertainty';
export { differenceHash, hammingDistance } from './difference-hash';
export { cosineDistance, novelty, selectionValue } from './feature-spread';
export {
  SampleSelector,
  type PickDecision,
  type Selection,
  type SampleSelectorOptions,
  type SelectionDecision,
  type SelectionReasonName,
  type SkipReason,
} from './sample-selector';
export {
  DEFAULT_SAMPLING_POLICY,
  InvalidSamplingPolicyError,
  parseSamplingPolicy,
  samplingPolicySchema,
  type SamplingPolicy,
  type UncertaintyMeasure,
} from './sampling-policy';
export type { InspectedPrediction, InspectionTask, ScoredBox, ScoredLabel, SelectionCandidate } from './selection-candidate';
export { anomalyUncertainty, detectionUncertainty, entropy, leastConfidence, margin } from './uncertainty';
