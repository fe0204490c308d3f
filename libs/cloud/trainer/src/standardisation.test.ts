import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fitStandardisation, standardise } from './standardisation';

const vectors = (...rows: number[][]) => rows.map((row) => Float32Array.from(row));

describe('fitStandardisation', () => {
  it('takes the mean and 1 / population standard deviation of each feature, in float32', () => {
    const { mean, scale } = fitStandardisation(vectors([1, 10], [3, 10], [5, 10.5], [7, 10.5]), 2);
    expect([...mean]).toEqual([4, 10.25]);
    expect(scale[0]).toBe(Math.fround(1 / Math.sqrt(5)));
    expect(scale[1]).toBe(4);
  });

  it('leaves a constant feature, or one varying by rounding only, at scale 1', () => {
    const { scale } = fitStandardisation(vectors([2, 1000], [2, 1000.0001220703125]), 2);
    expect([...scale]).toEqual([1, 1]);
  });

  it('gives train features mean 0 and standard deviation 1', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.double({ min: -1e3, max: 1e3, noNaN: true }), { minLength: 3, maxLength: 3 }), { minLength: 2, maxLength: 30 }), (rows) => {
        const features = vectors(...rows);
        const standardisation = fitStandardisation(features, 3);
        const matrix = standardise(features, standardisation);
        for (let d = 0; d < 3; d++) {
          const column = features.map((_, i) => matrix[i * 3 + d]!);
          const mean = column.reduce((a, b) => a + b, 0) / column.length;
          expect(Math.abs(mean)).toBeLessThan(1e-4);
          if (standardisation.scale[d] !== 1) expect(Math.sqrt(column.reduce((sum, v) => sum + (v - mean) ** 2, 0) / column.length)).toBeCloseTo(1, 4);
        }
      }),
    );
  });
});
