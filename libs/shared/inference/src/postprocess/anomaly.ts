import type { ModelManifest } from '../manifest/model-manifest';
import type { Prediction } from './prediction';

type AnomalyOutput = Extract<ModelManifest['output'], { task: 'anomaly' }>;

/**
 * One anomaly score as a prediction: anomalous at or above the threshold.
 * The normalized score (score / threshold) lets stations and the sampler
 * compare models whose raw scores live on different scales.
 */
export function scoreAnomaly(score: number, output: AnomalyOutput): Prediction {
  const normalized = output.threshold === 0 ? score : score / output.threshold;
  return {
    verdict: score >= output.threshold ? 'reject' : 'pass',
    scores: [{ label: 'anomaly', score: normalized }],
    boxes: [],
    anomaly: { score, normalized },
  };
}
