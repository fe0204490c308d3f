import { describe, expect, it } from 'vitest';
import { InFlight } from './in-flight';

function held<T>() {
  let settle!: (value: T) => void;
  let fail!: (error: Error) => void;
  const promise = new Promise<T>((resolve, reject) => {
    settle = resolve;
    fail = reject;
  });
  return { promise, settle, fail };
}

describe('InFlight', () => {
  it('settles tracked work as the work settles and forgets it once settled, failed or not', async () => {
    const inFlight = new InFlight();
    const ok = held<number>();
    const bad = held<number>();
    const tracked = inFlight.track(ok.promise);
    const failing = inFlight.track(bad.promise);
    expect(inFlight.size).toBe(2);
    ok.settle(7);
    bad.fail(new Error('no'));
    expect(await tracked).toBe(7);
    await expect(failing).rejects.toThrow('no');
    await new Promise((resolve) => setImmediate(resolve));
    expect(inFlight.size).toBe(0);
  });

  it('drains by closing and waiting for all work, work added while draining included', async () => {
    const inFlight = new InFlight();
    const first = held<void>();
    const second = held<void>();
    inFlight.track(first.promise).catch(() => undefined);
    let drained = false;
    const draining = inFlight.drain().then((finished) => (drained = finished));
    expect(inFlight.accepting).toBe(false);
    inFlight.track(second.promise).catch(() => undefined);
    first.fail(new Error('failed work still finishes'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(drained).toBe(false);
    second.settle();
    await draining;
    expect(drained).toBe(true);
  });

  it('gives up after the timeout and says so', async () => {
    const inFlight = new InFlight();
    inFlight.track(new Promise(() => undefined)).catch(() => undefined);
    const started = performance.now();
    expect(await inFlight.drain(50)).toBe(false);
    expect(performance.now() - started).toBeGreaterThanOrEqual(45);
  });

  it('drains at once when nothing is in flight', async () => {
    expect(await new InFlight().drain(10)).toBe(true);
  });
});
