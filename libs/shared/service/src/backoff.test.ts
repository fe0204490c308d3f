import { describe, expect, it } from 'vitest';
import { Backoff } from './backoff';

describe('Backoff', () => {
  it('doubles its ceiling up to the cap', () => {
    const backoff = new Backoff({ initialMs: 100, maxMs: 1_000, random: () => 0.999999 });
    expect(Array.from({ length: 6 }, () => backoff.next())).toEqual([99, 199, 399, 799, 999, 999]);
  });

  it('spreads delays below the ceiling', () => {
    const backoff = new Backoff({ initialMs: 1_000, maxMs: 1_000, random: () => 0.25 });
    expect(backoff.next()).toBe(250);
  });

  it('starts small again after a reset', () => {
    const backoff = new Backoff({ initialMs: 100, maxMs: 10_000, random: () => 0.5 });
    backoff.next();
    backoff.next();
    backoff.reset();
    expect(backoff.next()).toBe(50);
  });

  it('refuses a cap below the first delay', () => {
    expect(() => new Backoff({ initialMs: 100, maxMs: 50 })).toThrow(/initialMs/);
  });
});
