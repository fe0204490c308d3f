import { describe, expect, it } from 'vitest';
import { HashingSlots, SignInBusyError } from './hashing-slots';

/** A hash that finishes when the test says so. */
function heldHash() {
  let finish!: () => void;
  const done = new Promise<string>((resolve) => (finish = () => resolve('hashed')));
  return { hash: () => done, finish };
}

describe('HashingSlots', () => {
  it('runs at most the cap at once, queues a few more, refuses the rest at once, and hands each freed slot on', async () => {
    const slots = new HashingSlots({ concurrent: 2, waiting: 1 });
    const held = [heldHash(), heldHash(), heldHash()];
    let started = 0;
    const running = held.map((each) =>
      slots.run(() => {
        started++;
        return each.hash();
      }),
    );
    await Promise.resolve();
    expect(started).toBe(2);
    await expect(slots.run(() => Promise.resolve('never'))).rejects.toBeInstanceOf(SignInBusyError);

    held[0]!.finish();
    expect(await running[0]).toBe('hashed');
    expect(started).toBe(3);
    held[1]!.finish();
    held[2]!.finish();
    expect(await Promise.all(running)).toEqual(['hashed', 'hashed', 'hashed']);
    // All slots free again.
    expect(await Promise.all([slots.run(() => Promise.resolve(1)), slots.run(() => Promise.resolve(2))])).toEqual([1, 2]);
  });

  it('frees the slot of a hash that fails', async () => {
    const slots = new HashingSlots({ concurrent: 1, waiting: 0 });
    await expect(slots.run(() => Promise.reject(new Error('scrypt failed')))).rejects.toThrow('scrypt failed');
    expect(await slots.run(() => Promise.resolve('next'))).toBe('next');
  });
});
