import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { calibrateThreshold } from './calibration';

describe('calibrateThreshold', () => {
  it.each([
    // scores, rate, the held-out score the threshold sits just above, bound
    { scores: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19], rate: 0.1, above: 18, bound: 2 / 20 },
    { scores: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19], rate: 0.05, above: 19, bound: 1 / 20 },
    { scores: [3, 1, 2], rate: 0.01, above: 3, bound: 1 / 4 },
    { scores: [0.5], rate: 0.5, above: 0.5, bound: 1 / 2 },
    { scores: [2, 2, 2, 2], rate: 0.2, above: 2, bound: 1 / 5 },
  ])('sets the threshold just above $above for rate $rate, promising $bound', ({ scores, rate, above, bound }) => {
    const calibration = calibrateThreshold(scores, rate);
    expect(calibration.threshold).toBeGreaterThan(above);
    expect(calibration.threshold).toBeLessThan(above * (1 + 1e-6));
    expect(calibration.falseAlarmBound).toBeCloseTo(bound, 12);
    expect(calibration.heldOut).toBe(scores.length);
  });

  it('never promises more than the rate asked for once there are enough held-out images, and lets at most that share through', () => {
    fc.assert(
      fc.property(fc.array(fc.float({ min: 0, max: 100, noNaN: true }), { minLength: 1, maxLength: 300 }), fc.double({ min: 0.001, max: 0.5, noNaN: true }), (scores, rate) => {
        const calibration = calibrateThreshold(scores, rate);
        const alarms = scores.filter((score) => score >= calibration.threshold).length;
        if (scores.length + 1 >= 1 / rate) expect(calibration.falseAlarmBound).toBeLessThanOrEqual(rate + 1e-12);
        expect(alarms).toBeLessThanOrEqual(Math.floor(rate * scores.length));
        expect(calibration.threshold).toBeGreaterThan(0);
      }),
    );
  });

  it('refuses what cannot be calibrated', () => {
    expect(() => calibrateThreshold([], 0.1)).toThrow(/at least one held-out good image/);
    expect(() => calibrateThreshold([1], 0)).toThrow(/strictly between 0 and 1/);
    expect(() => calibrateThreshold([1, Number.NaN], 0.1)).toThrow(/finite/);
  });
});
