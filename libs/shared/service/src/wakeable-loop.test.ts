import { describe, expect, it } from 'vitest';
import { WakeableLoop } from './wakeable-loop';

const turnOfEventLoop = () => new Promise((resolve) => setImmediate(resolve));

describe('WakeableLoop', () => {
  it('sleeps until woken after a turn that asks for it, and runs again on wake', async () => {
    let turns = 0;
    const loop = new WakeableLoop(() => Promise.resolve(++turns && Number.POSITIVE_INFINITY), { onError: () => undefined });
    loop.start();
    loop.start();
    await turnOfEventLoop();
    expect(turns).toBe(1);
    loop.wake();
    await turnOfEventLoop();
    expect(turns).toBe(2);
    await loop.stop();
    expect(turns).toBe(2);
  });

  it('keeps a wake that comes during a turn, so the next turn follows at once', async () => {
    let turns = 0;
    const loop: WakeableLoop = new WakeableLoop(
      () => {
        turns++;
        if (turns === 1) loop.wake();
        return Promise.resolve(Number.POSITIVE_INFINITY);
      },
      { onError: () => undefined },
    );
    loop.start();
    await turnOfEventLoop();
    expect(turns).toBe(2);
    await loop.stop();
  });

  it('runs again after the delay a turn returns', async () => {
    const at: number[] = [];
    const loop = new WakeableLoop(() => Promise.resolve(at.push(performance.now()) && 30), { onError: () => undefined });
    loop.start();
    await new Promise((resolve) => setTimeout(resolve, 100));
    await loop.stop();
    expect(at.length).toBeGreaterThanOrEqual(2);
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(25);
  });

  it('hands a failed turn to onError and goes on after retryAfterErrorMs', async () => {
    const errors: string[] = [];
    let turns = 0;
    const loop = new WakeableLoop(
      () => (++turns === 1 ? Promise.reject(new Error('broken')) : Promise.resolve(Number.POSITIVE_INFINITY)),
      { onError: (error) => errors.push((error as Error).message), retryAfterErrorMs: 0 },
    );
    loop.start();
    await turnOfEventLoop();
    await turnOfEventLoop();
    expect(errors).toEqual(['broken']);
    expect(turns).toBe(2);
    await loop.stop();
  });

  it('stops a sleeping loop at once, and a stopped loop never starts', async () => {
    let turns = 0;
    const loop = new WakeableLoop(() => Promise.resolve(++turns && 60_000), { onError: () => undefined });
    loop.start();
    await turnOfEventLoop();
    await loop.stop();
    expect(loop.stopped).toBe(true);
    loop.start();
    await turnOfEventLoop();
    expect(turns).toBe(1);
  });
});
