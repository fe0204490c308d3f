import { describe, expect, it } from 'vitest';
import { CachedCount } from './cached-count';

describe('CachedCount', () => {
  it('counts once for callers that arrive together, then serves the last count while it recounts', async () => {
    const clock = { now: 0 };
    const pending: ((value: number) => void)[] = [];
    const counted = new CachedCount(() => new Promise<number>((resolve) => pending.push(resolve)), () => clock.now);

    const first = [counted.get('p'), counted.get('p'), counted.get('p')];
    expect(pending).toHaveLength(1);
    pending[0]!(40);
    expect(await Promise.all(first)).toEqual([40, 40, 40]);

    counted.subtract('p', 1);
    expect(await counted.get('p')).toBe(39);
    clock.now = 1_000;
    // Stale: answered at once with the last count, one recount started.
    expect(await counted.get('p')).toBe(39);
    expect(await counted.get('p')).toBe(39);
    expect(pending).toHaveLength(2);
    pending[1]!(7);
    await Promise.resolve();
    expect(await counted.get('p')).toBe(7);
  });

  it('keeps the last count when a recount fails, and tries again on the next call', async () => {
    const clock = { now: 0 };
    let fail = false;
    let counts = 0;
    const counted = new CachedCount(() => {
      counts++;
      return fail ? Promise.reject(new Error('connection lost')) : Promise.resolve(5);
    }, () => clock.now);
    expect(await counted.get('p')).toBe(5);
    fail = true;
    clock.now = 2_000;
    expect(await counted.get('p')).toBe(5);
    await new Promise((resolve) => setImmediate(resolve));
    expect(await counted.get('p')).toBe(5);
    expect(counts).toBe(3);
    await expect(new CachedCount(() => Promise.reject(new Error('no database')), () => 0).get('q')).rejects.toThrow('no database');
  });
});
