import { describe, expect, it } from 'vitest';
import { auroc, median } from './roc';

describe('auroc', () => {
  it.each([
    { positives: [3, 4], negatives: [1, 2], expected: 1 },
    { positives: [1, 2], negatives: [3, 4], expected: 0 },
    { positives: [1, 1], negatives: [1, 1], expected: 0.5 },
    // Of the 6 pairs, 2 > 1 and 3 beats all three win, 2 < 2.5 loses, and the tie (2, 2) counts half.
    { positives: [2, 3], negatives: [1, 2.5, 2], expected: 4.5 / 6 },
  ])('is $expected for $positives against $negatives', ({ positives, negatives, expected }) => {
    expect(auroc(positives, negatives)).toBeCloseTo(expected, 12);
  });

  it('is undefined without positives or negatives', () => {
    expect(auroc([], [1])).toBeNaN();
    expect(median([])).toBeNaN();
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
});
