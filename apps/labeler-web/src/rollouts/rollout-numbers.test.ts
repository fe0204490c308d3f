import { describe, expect, it } from 'vitest';
import { count, duration, histogramShares, milliseconds, percent, percentagePoints, rate, times } from './rollout-numbers';

describe('rates and percentages', () => {
  it('has no rate without anything to divide by', () => {
    expect(rate(3, 0)).toBeNull();
    expect(percent(rate(3, 0))).toBe('-');
  });

  it('writes small rates with two decimals and larger ones with one', () => {
    expect(percent(rate(2, 1_000))).toBe('0.20%');
    expect(percent(rate(50, 1_000))).toBe('5.0%');
    expect(percent(1)).toBe('100.0%');
  });

  it('signs a difference of rates in percentage points', () => {
    expect(percentagePoints(0.001)).toBe('+0.10 pp');
    expect(percentagePoints(-0.0375)).toBe('−3.75 pp');
  });

  it('writes ratios, latencies and counts', () => {
    expect(times(1.2)).toBe('×1.20');
    expect(milliseconds(8.44)).toBe('8.4 ms');
    expect(milliseconds(12.6)).toBe('13 ms');
    expect(count(1_234_567)).toBe('1,234,567');
  });
});

describe('histogramShares', () => {
  it("gives each bin's share, zeros for an empty histogram", () => {
    expect(histogramShares([1, 3, 0, 4])).toEqual([0.125, 0.375, 0, 0.5]);
    expect(histogramShares([0, 0])).toEqual([0, 0]);
  });
});

describe('duration', () => {
  it.each([
    [0, 'none'],
    [45, '45 s'],
    [600, '10 min'],
    [630, '10 min 30 s'],
    [5_400, '1 h 30 min'],
    [7_200, '2 h'],
  ])('writes %s seconds as "%s"', (seconds, expected) => {
    expect(duration(seconds)).toBe(expected);
  });
});
