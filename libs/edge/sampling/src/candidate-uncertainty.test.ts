import { describe, expect, it } from 'vitest';
import { candidateUncertainty } from './candidate-uncertainty';
import { DEFAULT_SAMPLING_POLICY } from './sampling-policy';

const classification = {
  task: 'classification' as const,
  prediction: {
    verdict: 'Normal',
    scores: [
      { label: 'Normal', score: 0.6 },
      { label: 'Defective', score: 0.4 },
    ],
    boxes: [],
  },
};

describe('candidateUncertainty', () => {
  it.each([
    ['least_confidence', 0.4],
    ['margin', 0.8],
    ['entropy', 0.97095],
  ] as const)('measures a classification by the policy measure %s', (measure, expected) => {
    const { value, reason } = candidateUncertainty(classification, { ...DEFAULT_SAMPLING_POLICY, measure });
    expect(reason).toBe(measure);
    expect(value).toBeCloseTo(expected, 5);
  });

  it('measures an anomaly by its distance from the threshold', () => {
    const prediction = { verdict: 'pass', scores: [{ label: 'anomaly', score: 0.95 }], boxes: [], anomaly: { score: 4.75, normalized: 0.95 } };
    const { value, reason } = candidateUncertainty({ task: 'anomaly', prediction }, { ...DEFAULT_SAMPLING_POLICY, anomalyBand: 0.25 });
    expect(reason).toBe('anomaly_near_threshold');
    expect(value).toBeCloseTo(0.8, 10);
  });

  it('reads an anomaly prediction without an anomaly score as certain', () => {
    const prediction = { verdict: 'pass', scores: [], boxes: [] };
    expect(candidateUncertainty({ task: 'anomaly', prediction }, DEFAULT_SAMPLING_POLICY).value).toBe(0);
  });

  it('measures a detection against its score threshold, or the manifest default 0.3', () => {
    const prediction = { verdict: 'reject', scores: [], boxes: [{ label: 'short', score: 0.55, x: 1, y: 2, width: 3, height: 4 }] };
    const { value, reason } = candidateUncertainty(
      { task: 'detection', prediction, detectionScoreThreshold: 0.5 },
      { ...DEFAULT_SAMPLING_POLICY, detectionBand: 0.1 },
    );
    expect(reason).toBe('detection_near_threshold');
    expect(value).toBeCloseTo(0.5, 10);
    expect(candidateUncertainty({ task: 'detection', prediction }, { ...DEFAULT_SAMPLING_POLICY, detectionBand: 0.5 }).value).toBeCloseTo(0.5, 10);
  });
});
