import { describe, expect, it } from 'vitest';
import { lastSeenAgo } from './last-seen';

const now = new Date('2026-11-22T12:00:00.000Z');
const secondsBefore = (seconds: number) => new Date(now.getTime() - seconds * 1_000);

describe('lastSeenAgo', () => {
  it.each([
    [0, '0 s ago'],
    [59.9, '59 s ago'],
    [60, '1 min ago'],
    [59 * 60 + 59, '59 min ago'],
    [3_600, '1 h ago'],
    [24 * 3_600 - 1, '23 h ago'],
    [24 * 3_600, '1 d ago'],
    [9 * 24 * 3_600, '9 d ago'],
  ])('says %s seconds is "%s", rounding down', (seconds, expected) => {
    expect(lastSeenAgo(secondsBefore(seconds), now)).toBe(expected);
  });

  it('reads a timestamp slightly ahead of the local clock as just seen', () => {
    expect(lastSeenAgo(secondsBefore(-3), now)).toBe('0 s ago');
  });
});
