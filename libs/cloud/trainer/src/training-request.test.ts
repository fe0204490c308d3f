import { trainingRecipeSchema } from '@loupe/api-contracts';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { headProbabilities } from './linear-head';
import { trainHead } from './trainer';
import type { LabeledFeatures, TrainHeadRequest } from './training-request';

const recipe = trainingRecipeSchema.parse({});
const split = (rows: number[][], labels: number[]): LabeledFeatures => ({ features: rows.map((row) => Float32Array.from(row)), labels });
const valid: TrainHeadRequest = {
  classes: ['ok', 'scratch'],
  featureOutput: 'pool',
  train: split([[0, 1], [1, 0], [0, 2], [2, 0]], [0, 1, 0, 1]),
  val: split([[0, 1], [1, 0]], [0, 1]),
  recipe,
};

describe('trainHead refuses what it cannot learn from', () => {
  it.each([
    { name: 'one class', change: { classes: ['ok'] }, message: /at least 2 classes; got 1/ },
    { name: 'repeated class names', change: { classes: ['ok', 'ok'] }, message: /class names repeat/ },
    { name: 'an empty training split', change: { train: split([], []) }, message: /no feature vectors/ },
    { name: 'labels of one class only in train', change: { train: split([[0, 1], [1, 0]], [1, 1]) }, message: /labels of 1 class/ },
    { name: 'more labels than vectors', change: { train: split([[0, 1], [1, 0]], [0, 1, 1]) }, message: /train split has 2 feature vectors for 3 labels/ },
    { name: 'a vector of another length', change: { val: split([[0, 1, 2]], [0]) }, message: /val feature vector 0 has 3 values; the first has 2/ },
    { name: 'a NaN feature', change: { train: split([[0, 1], [Number.NaN, 0]], [0, 1]) }, message: /train feature vector 1 holds NaN at 0/ },
    { name: 'an infinite feature', change: { val: split([[0, Infinity]], [0]) }, message: /val feature vector 0 holds Infinity at 1/ },
    { name: 'a label out of range', change: { train: split([[0, 1], [1, 0]], [0, 2]) }, message: /train label 1 is 2; classes are 0 to 1/ },
    { name: 'a negative label', change: { val: split([[0, 1]], [-1]) }, message: /val label 0 is -1/ },
    { name: 'a fractional label', change: { train: split([[0, 1], [1, 0]], [0, 0.5]) }, message: /train label 1 is 0.5/ },
    { name: 'no L2 strength', change: { recipe: { ...recipe, l2Candidates: [] } }, message: /names no L2 strength/ },
    { name: 'a negative L2 strength', change: { recipe: { ...recipe, l2Candidates: [-1] } }, message: /L2 strength -1/ },
    { name: 'no iterations', change: { recipe: { ...recipe, maxIterations: 0 } }, message: /maxIterations 0/ },
  ])('$name', ({ change, message }) => {
    const request: TrainHeadRequest = { ...valid, ...change };
    expect(() => trainHead(request)).toThrow(RangeError);
    expect(() => trainHead(request)).toThrow(message);
  });

  it('trains the valid request these cases are cut from', () => {
    expect(trainHead(valid).validation?.accuracy).toBe(1);
  });

  it('on any finite features, returns a finite head whose probabilities sum to 1, or says why it cannot', () => {
    const value = fc.oneof(fc.float({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(0, 1, -1, 3.4e38, -3.4e38, 1e-38));
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }).chain((dimension) =>
          fc.record({
            train: fc.array(fc.tuple(fc.array(value, { minLength: dimension, maxLength: dimension }), fc.integer({ min: 0, max: 2 })), { minLength: 1, maxLength: 20 }),
            val: fc.array(fc.tuple(fc.array(value, { minLength: dimension, maxLength: dimension }), fc.integer({ min: 0, max: 2 })), { maxLength: 8 }),
          }),
        ),
        ({ train, val }) => {
          const toSplit = (rows: [number[], number][]) => split(rows.map(([row]) => row), rows.map(([, label]) => label));
          const request = { ...valid, classes: ['a', 'b', 'c'], train: toSplit(train), val: toSplit(val), recipe: { ...recipe, maxIterations: 30 } };
          if (new Set(request.train.labels).size < 2) {
            expect(() => trainHead(request)).toThrow(RangeError);
            return;
          }
          const { head } = trainHead(request);
          for (const array of [head.mean, head.scale, head.weights, head.bias]) expect(array.every(Number.isFinite)).toBe(true);
          expect(Number.isFinite(head.temperature) && head.temperature > 0).toBe(true);
          for (const vector of [...request.train.features, ...request.val.features]) {
            expect(headProbabilities(head, vector).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});
