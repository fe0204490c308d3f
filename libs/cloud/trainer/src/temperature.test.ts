import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluate } from './evaluation';
import { seededRandom } from './gaussian-blobs.fixture';
import { softmaxInPlace } from './linear-head';
import { fitTemperature, negativeLogLikelihood, TEMPERATURE_RANGE } from './temperature';

/** Labels drawn from softmax(logits): a perfectly calibrated head, whose logits times `sharpen` make it over-confident. */
function calibratedSamples(count: number, seed: number, sharpen: number) {
  const random = seededRandom(seed);
  const logits: Float64Array[] = [];
  const labels: number[] = [];
  for (let i = 0; i < count; i++) {
    const row = Float64Array.from({ length: 4 }, () => 3 * random());
    const probabilities = softmaxInPlace(Float64Array.from(row));
    let u = random();
    let label = 0;
    while (label < 3 && (u -= probabilities[label]!) > 0) label++;
    logits.push(row.map((value) => value * sharpen));
    labels.push(label);
  }
  return { logits, labels };
}

const ece = (logits: Float64Array[], labels: number[], temperature: number) =>
  evaluate(['a', 'b', 'c', 'd'], logits.map((row) => softmaxInPlace(Float64Array.from(row), temperature)), labels).calibrationError;

describe('fitTemperature', () => {
  it('finds the factor by which a calibrated head was made over-confident, and lowers NLL and ECE', () => {
    const { logits, labels } = calibratedSamples(4_000, 1, 4);
    const temperature = fitTemperature(logits, labels);
    expect(temperature).toBeGreaterThan(3.4);
    expect(temperature).toBeLessThan(4.6);
    expect(negativeLogLikelihood(logits, labels, temperature)).toBeLessThan(negativeLogLikelihood(logits, labels, 1));
    expect(ece(logits, labels, temperature)).toBeLessThan(ece(logits, labels, 1) / 3);
  });

  it('sharpens an under-confident head (T below 1)', () => {
    const { logits, labels } = calibratedSamples(4_000, 2, 0.5);
    const temperature = fitTemperature(logits, labels);
    expect(temperature).toBeGreaterThan(0.4);
    expect(temperature).toBeLessThan(0.6);
  });

  it('finds the minimum of the NLL: no temperature on a grid does better', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000 }), fc.double({ min: 0.2, max: 8, noNaN: true }), (seed, sharpen) => {
        const { logits, labels } = calibratedSamples(50, seed, sharpen);
        const best = negativeLogLikelihood(logits, labels, fitTemperature(logits, labels));
        for (let t = TEMPERATURE_RANGE.min; t <= TEMPERATURE_RANGE.max; t *= 1.1) {
          expect(best).toBeLessThanOrEqual(negativeLogLikelihood(logits, labels, t) + 1e-9);
        }
      }),
      { numRuns: 30 },
    );
  });

  it('stays within its range when every prediction is right (the NLL keeps falling as T shrinks)', () => {
    const logits = [Float64Array.from([2, 0]), Float64Array.from([0, 2])];
    expect(fitTemperature(logits, [0, 1])).toBeCloseTo(TEMPERATURE_RANGE.min, 3);
  });

  it('refuses to compute a likelihood without samples', () => {
    expect(() => negativeLogLikelihood([], [], 1)).toThrow(RangeError);
  });
});
