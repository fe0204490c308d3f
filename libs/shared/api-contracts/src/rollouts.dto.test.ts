import { describe, expect, it } from 'vitest';
import { meanConfidence } from './rollouts.dto';

describe('meanConfidence', () => {
  it('averages the bin midpoints, as the cloud does', () => {
    const histogram = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1];
    expect(meanConfidence(histogram)).toBeCloseTo(0.9);
  });

  it('has no mean for an empty histogram', () => {
    expect(meanConfidence(new Array<number>(10).fill(0))).toBeNull();
  });
});
