import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { splitOf } from './dataset-split';

describe('splitOf', () => {
  it('puts a sample in the same split every time, whatever the case of its id', () => {
    const id = randomUUID();
    expect(splitOf(id.toUpperCase())).toBe(splitOf(id));
    expect(splitOf('7d0c0b8e-6a47-4d7e-9f51-2f7a4c9e1b3d')).toBe(splitOf('7d0c0b8e-6a47-4d7e-9f51-2f7a4c9e1b3d'));
  });

  it('splits about 80/10/10', () => {
    const counts = { train: 0, val: 0, test: 0 };
    for (let i = 0; i < 20_000; i++) counts[splitOf(randomUUID())]++;
    expect(counts.train / 20_000).toBeCloseTo(0.8, 1);
    expect(counts.val / 20_000).toBeCloseTo(0.1, 1);
    expect(counts.test / 20_000).toBeCloseTo(0.1, 1);
  });
});
