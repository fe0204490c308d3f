import { describe, expect, it } from 'vitest';
import { RecentlyChecked } from './recently-checked';

describe('RecentlyChecked', () => {
  it('answers from memory until the trust time or the answer\'s own end, whichever comes first', async () => {
    let now = 0;
    let lookups = 0;
    const cache = new RecentlyChecked<string>(5_000, 10, () => now);
    const lookup = (validUntil?: number) => () => {
      lookups++;
      return Promise.resolve({ value: `v${lookups}`, ...(validUntil === undefined ? {} : { validUntil }) });
    };
    expect(await cache.get('a', lookup())).toBe('v1');
    now = 4_999;
    expect(await cache.get('a', lookup())).toBe('v1');
    now = 5_000;
    expect(await cache.get('a', lookup(6_000))).toBe('v2');
    now = 6_000;
    expect(await cache.get('a', lookup())).toBe('v3');
  });

  it('never remembers an absent answer, and keeps at most its capacity', async () => {
    const cache = new RecentlyChecked<string>(5_000, 2, () => 0);
    let lookups = 0;
    const missing = () => {
      lookups++;
      return Promise.resolve(undefined);
    };
    expect(await cache.get('gone', missing)).toBeUndefined();
    expect(await cache.get('gone', missing)).toBeUndefined();
    expect(lookups).toBe(2);

    for (const key of ['a', 'b', 'c']) await cache.get(key, () => Promise.resolve({ value: key }));
    expect(await cache.get('a', () => Promise.resolve({ value: 'a again' }))).toBe('a again');
    expect(await cache.get('c', () => Promise.resolve({ value: 'c again' }))).toBe('c');
  });

  it('does not keep an answer read before a forget that lands while the lookup is in flight', async () => {
    const cache = new RecentlyChecked<string>(5_000, 10, () => 0);
    let rowExists = true;
    let release!: () => void;
    const firstRead = new Promise<void>((resolve) => (release = resolve));
    let reads = 0;
    const lookup = async () => {
      const exists = rowExists;
      if (++reads === 1) await firstRead;
      return exists ? { value: 'session' } : undefined;
    };
    const inFlight = cache.get('k', lookup);
    rowExists = false;
    cache.forget('k');
    release();
    expect(await inFlight).toBeUndefined();
    expect(await cache.get('k', lookup)).toBeUndefined();
  });
});
