import { describe, expect, it } from 'vitest';
import { anomalyUncertainty, detectionUncertainty, entropy, leastConfidence, margin } from './uncertainty';

const scores = (...values: number[]) => values.map((score, index) => ({ label: `class-${index}`, score }));

describe('leastConfidence', () => {
  it('is 1 - the top probability', () => {
    expect(leastConfidence(scores(0.7, 0.2, 0.1))).toBeCloseTo(0.3, 10);
    expect(leastConfidence(scores(1, 0))).toBe(0);
  });

  it('does not scale a top k up to 1', () => {
    // 0.5 and 0.2 of a larger split: the model is 50 % sure, not 71 %.
    expect(leastConfidence(scores(0.5, 0.2))).toBeCloseTo(0.5, 10);
  });

  it('scales scores summing above 1 down to 1', () => {
    expect(leastConfidence(scores(0.9, 0.6))).toBeCloseTo(0.4, 10);
  });

  it('finds the top score in any order and ignores scores that are not probabilities', () => {
    expect(leastConfidence(scores(0.2, 0.7, Number.NaN, -3))).toBeCloseTo(0.3, 10);
  });

  it('is 1 without scores', () => {
    expect(leastConfidence([])).toBe(1);
  });
});

describe('margin', () => {
  it('is 1 - (top - runner-up)', () => {
    expect(margin(scores(0.7, 0.2, 0.1))).toBeCloseTo(0.5, 10);
    expect(margin(scores(0.5, 0.45))).toBeCloseTo(0.95, 10);
    expect(margin(scores(1, 0))).toBe(0);
  });

  it('takes the left-out mass as the runner-up when only the top label is listed', () => {
    // Exact for two classes: 0.9 vs 0.1.
    expect(margin(scores(0.9))).toBeCloseTo(0.2, 10);
    // 0.7 left out could hold a class scoring as high as the top one.
    expect(margin(scores(0.3))).toBe(1);
  });

  it('uses the listed runner-up when there is one, as no left-out label can beat it', () => {
    expect(margin(scores(0.4, 0.1))).toBeCloseTo(0.7, 10);
  });

  it('is 1 without scores', () => {
    expect(margin([])).toBe(1);
  });
});

describe('entropy', () => {
  it('is 1 for a uniform answer and 0 for a certain one', () => {
    expect(entropy(scores(0.25, 0.25, 0.25, 0.25))).toBeCloseTo(1, 10);
    expect(entropy(scores(0.5, 0.5))).toBeCloseTo(1, 10);
    expect(entropy(scores(1, 0, 0))).toBe(0);
    expect(entropy(scores(1))).toBe(0);
  });

  it('divides by the log of the number of classes', () => {
    // -(0.7 ln 0.7 + 0.2 ln 0.2 + 0.1 ln 0.1) / ln 3 = 0.80182 / 1.09861 = 0.72985
    expect(entropy(scores(0.7, 0.2, 0.1))).toBeCloseTo(0.72985, 5);
  });

  it('counts the left-out mass of a top k as one more class', () => {
    // Buckets 0.5, 0.25 and 0.25 left out: (0.5 ln 2 + 0.5 ln 4) / ln 3 = 1.03972 / 1.09861 = 0.94639
    expect(entropy(scores(0.5, 0.25))).toBeCloseTo(0.94639, 5);
    // Buckets 0.6 and 0.4: (0.6 ln(1/0.6) + 0.4 ln(1/0.4)) / ln 2 = 0.67301 / 0.69315 = 0.97095
    expect(entropy(scores(0.6))).toBeCloseTo(0.97095, 5);
  });

  it('does not take float32 rounding of a softmax for a left-out class', () => {
    expect(entropy(scores(0.7, 0.2, 0.0999999))).toBeCloseTo(0.72985, 5);
  });

  it('is 1 without scores', () => {
    expect(entropy([])).toBe(1);
  });
});

describe('anomalyUncertainty', () => {
  it('is 1 at the threshold and falls linearly to 0 at the band either side', () => {
    expect(anomalyUncertainty(1, 0.25)).toBe(1);
    expect(anomalyUncertainty(1.1, 0.25)).toBeCloseTo(0.6, 10);
    expect(anomalyUncertainty(0.9, 0.25)).toBeCloseTo(0.6, 10);
    expect(anomalyUncertainty(1.25, 0.25)).toBe(0);
    expect(anomalyUncertainty(0.5, 0.25)).toBe(0);
    expect(anomalyUncertainty(3, 0.25)).toBe(0);
  });

  it('reads a broken score as certain', () => {
    expect(anomalyUncertainty(Number.NaN, 0.25)).toBe(0);
  });

  it('refuses a band that is not positive', () => {
    expect(() => anomalyUncertainty(1, 0)).toThrow(RangeError);
  });
});

describe('detectionUncertainty', () => {
  const box = (score: number) => ({ label: 'short', score, x: 0, y: 0, width: 10, height: 10 });

  it('is the closeness to the threshold of the box nearest to it', () => {
    // 0.36 is 0.06 above 0.3: 1 - 0.06 / 0.15
    expect(detectionUncertainty([box(0.9), box(0.36)], 0.3, 0.15)).toBeCloseTo(0.6, 10);
    expect(detectionUncertainty([box(0.3)], 0.3, 0.15)).toBe(1);
  });

  it('is 0 when every box is a band or more above the threshold', () => {
    expect(detectionUncertainty([box(0.45), box(0.9)], 0.3, 0.15)).toBe(0);
  });

  it('is 0 without boxes', () => {
    expect(detectionUncertainty([], 0.3, 0.15)).toBe(0);
  });
});
