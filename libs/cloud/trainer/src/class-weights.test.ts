import { describe, expect, it } from 'vitest';
import { sampleWeights } from './class-weights';

describe('sampleWeights', () => {
  it('weighs each present class equally when balanced, and sums to N', () => {
    const weights = sampleWeights([0, 0, 0, 1, 2, 2], 4, true);
    expect([...weights]).toEqual([2 / 3, 2 / 3, 2 / 3, 2, 1, 1]);
    expect(weights.reduce((a, b) => a + b, 0)).toBeCloseTo(6, 12);
  });

  it('weighs every sample 1 otherwise', () => {
    expect([...sampleWeights([0, 0, 1], 2, false)]).toEqual([1, 1, 1]);
  });
});
