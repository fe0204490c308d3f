import { describe, expect, it } from 'vitest';
import { SeededRandom } from './seeded-random';

describe('SeededRandom', () => {
  it('gives the same numbers for the same seed, and others for another', () => {
    expect(new SeededRandom(19).gaussians(5, 1)).toEqual(new SeededRandom(19).gaussians(5, 1));
    expect(new SeededRandom(19).gaussians(5, 1)).not.toEqual(new SeededRandom(20).gaussians(5, 1));
    const values = new SeededRandom(1).gaussians(20_000, 2);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const variance = values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / values.length;
    expect(Math.abs(mean)).toBeLessThan(0.05);
    expect(Math.sqrt(variance)).toBeCloseTo(2, 1);
    expect(() => new SeededRandom(0.5)).toThrow(/safe integer/);
  });
});
