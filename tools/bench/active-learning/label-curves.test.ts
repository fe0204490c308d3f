import { describe, expect, it } from 'vitest';
import { labelSavings, labelsToReach, medianLabels } from './label-curves';

const curve = [
  { labels: 20, accuracy: 0.3 },
  { labels: 40, accuracy: 0.5 },
  { labels: 60, accuracy: 0.45 },
  { labels: 80, accuracy: 0.7 },
];

describe('labelsToReach', () => {
  it.each([
    ['between two rounds, read linearly', 0.4, 30],
    ['at a round exactly', 0.5, 40],
    ['the first crossing, not a later one', 0.47, 37],
    ['the first round when it starts above', 0.1, 20],
    ['undefined when never reached', 0.71, undefined],
  ])('is %s', (_name, target, expected) => {
    const labels = labelsToReach(curve, target);
    if (expected === undefined) expect(labels).toBeUndefined();
    else expect(labels).toBeCloseTo(expected, 10);
  });
});

describe('medianLabels', () => {
  it.each([
    [[30, 10, 20], 20],
    [[10, 20, 30, 40], 25],
    [[10, undefined, 30], 30],
    [[10, undefined, undefined], undefined],
    [[], undefined],
  ])('of %j is %s', (perSeed, expected) => {
    expect(medianLabels(perSeed)).toBe(expected);
  });
});

describe('labelSavings', () => {
  it('is the share of random labels saved, undefined unless both reached', () => {
    expect(labelSavings(60, 100)).toBeCloseTo(0.4, 12);
    expect(labelSavings(150, 100)).toBeCloseTo(-0.5, 12);
    expect(labelSavings(undefined, 100)).toBeUndefined();
    expect(labelSavings(60, undefined)).toBeUndefined();
  });
});
