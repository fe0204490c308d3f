import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cosineDistance, novelty, selectionValue } from './feature-spread';

const vector = (...values: number[]) => new Float32Array(values);
const features = (length: number) => fc.float32Array({ minLength: length, maxLength: length });

describe('cosineDistance', () => {
  it.each([
    ['the same direction', vector(1, 2), vector(2, 4), 0],
    ['orthogonal vectors', vector(1, 0), vector(0, 3), 1],
    ['opposite vectors, capped', vector(1, 0), vector(-1, 0), 1],
    ['45 degrees apart', vector(1, 0), vector(1, 1), 1 - Math.SQRT1_2],
    ['a zero vector', vector(0, 0), vector(1, 1), 1],
  ])('is %s', (_name, a, b, expected) => {
    expect(cosineDistance(a, b)).toBeCloseTo(expected, 6);
  });

  it('refuses vectors of different lengths', () => {
    expect(() => cosineDistance(vector(1), vector(1, 2))).toThrow(RangeError);
  });

  it('stays within [0, 1] and is symmetric for any vectors, NaN and infinities included', () => {
    fc.assert(
      fc.property(features(4), features(4), (a, b) => {
        const distance = cosineDistance(a, b);
        expect(distance).toBeGreaterThanOrEqual(0);
        expect(distance).toBeLessThanOrEqual(1);
        expect(cosineDistance(b, a)).toBe(distance);
      }),
    );
  });
});

describe('novelty', () => {
  it('is 1 when nothing was selected lately, and the distance to the nearest selection otherwise', () => {
    expect(novelty(vector(1, 0), [])).toBe(1);
    expect(novelty(vector(1, 0), [vector(0, 1), vector(1, 1)])).toBeCloseTo(1 - Math.SQRT1_2, 6);
    expect(novelty(vector(1, 0), [vector(0, 1), vector(3, 0)])).toBe(0);
  });

  it('ignores selections whose features came from another backbone (another length)', () => {
    expect(novelty(vector(1, 0), [vector(1, 0, 0)])).toBe(1);
  });

  it('never grows when a selection is added', () => {
    fc.assert(
      fc.property(features(3), fc.array(features(3), { maxLength: 5 }), features(3), (candidate, recent, added) => {
        expect(novelty(candidate, [...recent, added])).toBeLessThanOrEqual(novelty(candidate, recent));
      }),
    );
  });
});

describe('selectionValue', () => {
  it.each([
    ['uncertainty alone at diversity 0', 0.8, 0.1, 0, 0.8],
    ['novelty alone at diversity 1', 0.8, 0.1, 1, 0.1],
    ['novelty alone at diversity 1, even for a sure answer', 0, 0.6, 1, 0.6],
    ['the geometric mean at diversity 0.5', 0.9, 0.4, 0.5, 0.6],
    ['the uncertainty without a feature vector', 0.7, undefined, 0.5, 0.7],
    ['0 for a sure answer unless diversity is 1', 0, 1, 0.5, 0],
  ])('is %s', (_name, uncertainty, noveltyValue, diversity, expected) => {
    expect(selectionValue(uncertainty, noveltyValue, diversity)).toBeCloseTo(expected, 10);
  });

  it('lies between the uncertainty and the novelty', () => {
    const unit = fc.double({ min: 0, max: 1, noNaN: true });
    fc.assert(
      fc.property(unit, unit, unit, (uncertainty, noveltyValue, diversity) => {
        const value = selectionValue(uncertainty, noveltyValue, diversity);
        expect(value).toBeGreaterThanOrEqual(Math.min(uncertainty, noveltyValue) - 1e-12);
        expect(value).toBeLessThanOrEqual(Math.max(uncertainty, noveltyValue) + 1e-12);
      }),
    );
  });
});
