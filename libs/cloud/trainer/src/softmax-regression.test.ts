import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parameterCount, softmaxRegressionObjective, type TrainingMatrix } from './softmax-regression';

const matrixOf = (rows: number[][], labels: number[], classCount: number, weights?: number[]): TrainingMatrix => ({
  features: Float64Array.from(rows.flat()),
  labels,
  weights: Float64Array.from(weights ?? labels.map(() => 1)),
  dimension: rows[0]!.length,
  classCount,
});

describe('softmaxRegressionObjective', () => {
  it('is log K with zero weights, whatever the data, and its bias gradient is the predicted minus the observed class shares', () => {
    const matrix = matrixOf([[1, 2], [3, 4], [5, 6], [7, 8]], [0, 0, 0, 2], 3);
    const gradient = new Float64Array(parameterCount(matrix));
    expect(softmaxRegressionObjective(matrix, 0.5)(new Float64Array(parameterCount(matrix)), gradient)).toBeCloseTo(Math.log(3), 12);
    expect([...gradient.subarray(6)].map((g) => +g.toFixed(12))).toEqual([1 / 3 - 3 / 4, 1 / 3, 1 / 3 - 1 / 4].map((g) => +g.toFixed(12)));
  });

  it('penalises the weights by l2 / 2 |W|^2 and leaves the bias free', () => {
    const matrix = matrixOf([[0, 0]], [1], 2);
    const parameters = Float64Array.from([1, 2, 3, 4, 100, 100]);
    const gradient = new Float64Array(6);
    // Zero features: the data term is log 2 (equal biases), the penalty 0.1 / 2 * 30.
    expect(softmaxRegressionObjective(matrix, 0.1)(parameters, gradient)).toBeCloseTo(Math.log(2) + 1.5, 12);
    expect([...gradient].map((g) => +g.toFixed(12))).toEqual([0.1, 0.2, 0.3, 0.4, 0.5, -0.5]);
  });

  it('weighs each sample by its weight: doubling one sample equals counting it twice', () => {
    const twice = matrixOf([[1, -1], [1, -1], [0, 2]], [0, 0, 1], 2);
    const weighted = matrixOf([[1, -1], [0, 2]], [0, 1], 2, [2, 1]);
    const parameters = Float64Array.from([0.3, -0.2, 0.1, 0.4, 0.05, -0.05]);
    const [g1, g2] = [new Float64Array(6), new Float64Array(6)];
    expect(softmaxRegressionObjective(weighted, 0.01)(parameters, g2)).toBeCloseTo(softmaxRegressionObjective(twice, 0.01)(parameters, g1), 14);
    for (let j = 0; j < 6; j++) expect(g2[j]).toBeCloseTo(g1[j]!, 14);
  });

  it('has the gradient that central differences measure', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        // Up to 9 classes: the kernels take four at a time, then the rest one by one.
        fc.integer({ min: 2, max: 9 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (dimension, classCount, samples, seed, l2) => {
          let state = seed;
          const next = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 4 - 2;
          const rows = Array.from({ length: samples }, () => Array.from({ length: dimension }, next));
          const labels = rows.map((_, i) => i % classCount);
          const matrix = matrixOf(rows, labels, classCount, labels.map(() => 0.5 + Math.abs(next())));
          const objective = softmaxRegressionObjective(matrix, l2);
          const parameters = Float64Array.from({ length: parameterCount(matrix) }, next);
          const gradient = new Float64Array(parameters.length);
          objective(parameters, gradient);
          const scratch = new Float64Array(parameters.length);
          for (let j = 0; j < parameters.length; j++) {
            const h = 1e-6;
            const up = Float64Array.from(parameters);
            const down = Float64Array.from(parameters);
            up[j] = up[j]! + h;
            down[j] = down[j]! - h;
            const numeric = (objective(up, scratch) - objective(down, scratch)) / (2 * h);
            expect(Math.abs(numeric - gradient[j]!)).toBeLessThan(1e-7);
          }
        },
      ),
      { numRuns: 50 },
    );
  });
});
