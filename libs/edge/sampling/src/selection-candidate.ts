/**
 * What the sampler reads from one inspection. The shapes are the parts of
 * @loupe/inference's `Prediction` that sampling needs, declared here because
 * a domain library may not depend on the inference runtime; a `Prediction`
 * fits them as it is.
 */

export interface ScoredLabel {
  label: string;
  score: number;
}

export interface ScoredBox {
  score: number;
}

export interface InspectedPrediction {
  /** The station's answer; the per-class cap counts selections by it. */
  verdict: string;
  /** Highest first, possibly only the top k labels. */
  scores: readonly ScoredLabel[];
  boxes: readonly ScoredBox[];
  /** Anomaly models: the score divided by the threshold (1 = at the threshold). */
  anomaly?: { normalized: number };
}

export type InspectionTask = 'classification' | 'anomaly' | 'detection';

export interface SelectionCandidate {
  stationId: string;
  task: InspectionTask;
  prediction: InspectedPrediction;
  /** Size of the encoded image that would be uploaded; counts against the daily budget. */
  imageBytes: number;
  /** `differenceHash` of the image. */
  imageHash: bigint;
  /** Detection models: the manifest's scoreThreshold, below which boxes are dropped. */
  detectionScoreThreshold?: number;
  /** The pooled backbone features of the image, when the model outputs them; what spread is measured on. */
  features?: Float32Array;
}
