import { describe, expect, it } from 'vitest';
import { nextPollDelayMs } from './poll-delay';

describe('nextPollDelayMs', () => {
  it('polls every 5 s while the cloud answers', () => {
    expect(nextPollDelayMs(0)).toBe(5_000);
  });

  it('doubles the wait with each failure in a row, up to a minute', () => {
    expect([1, 2, 3, 4, 10].map(nextPollDelayMs)).toEqual([10_000, 20_000, 40_000, 60_000, 60_000]);
  });
});
