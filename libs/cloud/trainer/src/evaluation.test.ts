import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluate, expectedCalibrationError } from './evaluation';

const rows = (...values: number[][]) => values.map((row) => Float64Array.from(row));

describe('evaluate', () => {
  it('scores a 3-class example against the matrix worked out by hand', () => {
    // actual:    a  a  a  b  b  c
    // predicted: a  a  b  b  c  c
    const probabilities = rows([0.8, 0.1, 0.1], [0.6, 0.3, 0.1], [0.3, 0.6, 0.1], [0.1, 0.7, 0.2], [0.2, 0.3, 0.5], [0.1, 0.1, 0.8]);
    const result = evaluate(['a', 'b', 'c'], probabilities, [0, 0, 0, 1, 1, 2]);
    expect(result.confusion).toEqual([[2, 1, 0], [0, 1, 1], [0, 0, 1]]);
    expect(result.perClass).toEqual([
      { className: 'a', precision: 1, recall: 2 / 3, support: 3 },
      { className: 'b', precision: 1 / 2, recall: 1 / 2, support: 2 },
      { className: 'c', precision: 1 / 2, recall: 1, support: 1 },
    ]);
    expect(result.samples).toBe(6);
    expect(result.accuracy).toBeCloseTo(4 / 6, 15);
    // F1: a 0.8, b 0.5, c 2/3.
    expect(result.macroF1).toBeCloseTo((0.8 + 0.5 + 2 / 3) / 3, 15);
    expect(result.classes).toEqual(['a', 'b', 'c']);
    // Bins: 0.5-0.6 {0.5 right}, 0.6-0.7 {0.6 right, 0.6 wrong}, 0.7-0.8 {0.7 right}, 0.8-0.9 {0.8 right, 0.8 right}.
    const expected = (Math.abs(1 - 0.5) + Math.abs(1 - 1.2) + Math.abs(1 - 0.7) + Math.abs(2 - 1.6)) / 6;
    expect(result.calibrationError).toBeCloseTo(expected, 15);
  });

  it('leaves a class absent from labels and predictions out of macro-F1, and counts one only predicted as F1 0', () => {
    const absent = evaluate(['a', 'b', 'c'], rows([0.9, 0.1, 0], [0.1, 0.9, 0]), [0, 1]);
    expect(absent.macroF1).toBe(1);
    expect(absent.perClass[2]).toEqual({ className: 'c', precision: 0, recall: 0, support: 0 });
    const onlyPredicted = evaluate(['a', 'b', 'c'], rows([0.9, 0.1, 0], [0.1, 0, 0.9]), [0, 0]);
    // a: precision 1, recall 1/2, F1 2/3; c: predicted once, never present, F1 0; b: absent from both.
    expect(onlyPredicted.macroF1).toBeCloseTo(1 / 3, 15);
  });

  it('predicts the first of equally probable classes', () => {
    expect(evaluate(['a', 'b'], rows([0.5, 0.5]), [0]).confusion).toEqual([[1, 0], [0, 0]]);
  });

  it('takes float32 probabilities as well', () => {
    const result = evaluate(['a', 'b'], [Float32Array.from([0.25, 0.75])], [1]);
    expect(result).toMatchObject({ accuracy: 1, calibrationError: 0.25 });
  });

  it.each([
    { name: 'no samples', classes: ['a'], probabilities: [], labels: [], message: /no samples/ },
    { name: 'no classes', classes: [], probabilities: rows([]), labels: [0], message: /no classes/ },
    { name: 'fewer predictions than labels', classes: ['a', 'b'], probabilities: rows([1, 0]), labels: [0, 1], message: /1 predictions for 2 labels/ },
    { name: 'a short row', classes: ['a', 'b'], probabilities: rows([1]), labels: [0], message: /1 probabilities for 2 classes/ },
    { name: 'a NaN', classes: ['a', 'b'], probabilities: rows([Number.NaN, 1]), labels: [0], message: /not finite/ },
    { name: 'a label out of range', classes: ['a', 'b'], probabilities: rows([1, 0]), labels: [2], message: /label 0 is 2/ },
    { name: 'a fractional label', classes: ['a', 'b'], probabilities: rows([1, 0]), labels: [0.5], message: /label 0 is 0.5/ },
  ])('refuses $name', ({ classes, probabilities, labels, message }) => {
    expect(() => evaluate(classes, probabilities, labels)).toThrow(RangeError);
    expect(() => evaluate(classes, probabilities, labels)).toThrow(message);
  });

  it('keeps its numbers in range and its confusion matrix consistent on any input', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }).chain((k) =>
          fc.array(fc.tuple(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: k, maxLength: k }), fc.integer({ min: 0, max: k - 1 })), { minLength: 1, maxLength: 60 }),
        ),
        (samples) => {
          const k = samples[0]![0].length;
          const result = evaluate(
            Array.from({ length: k }, (_, i) => `c${i}`),
            samples.map(([row]) => Float64Array.from(row)),
            samples.map(([, label]) => label),
          );
          const total = result.confusion.flat().reduce((a, b) => a + b, 0);
          expect(total).toBe(samples.length);
          expect(result.confusion.map((row) => row.reduce((a, b) => a + b, 0))).toEqual(result.perClass.map((c) => c.support));
          const diagonal = result.confusion.reduce((sum, row, i) => sum + row[i]!, 0);
          expect(result.accuracy).toBeCloseTo(diagonal / samples.length, 12);
          for (const value of [result.accuracy, result.macroF1, result.calibrationError, ...result.perClass.flatMap((c) => [c.precision, c.recall])]) {
            expect(value).toBeGreaterThanOrEqual(0);
            expect(value).toBeLessThanOrEqual(1);
          }
        },
      ),
    );
  });
});

describe('expectedCalibrationError', () => {
  it('is 0 when each bin is right as often as it is confident, and puts a confidence of 1 in the last bin', () => {
    const predictions = [
      ...Array.from({ length: 4 }, (_, i) => ({ confidence: 0.75, correct: i < 3 })),
      { confidence: 1, correct: true },
    ];
    expect(expectedCalibrationError(predictions)).toBe(0);
  });

  it('is the confidence itself when a head is sure and always wrong', () => {
    expect(expectedCalibrationError([{ confidence: 0.95, correct: false }, { confidence: 0.95, correct: false }])).toBeCloseTo(0.95, 15);
  });
});
