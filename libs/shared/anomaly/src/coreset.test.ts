import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GreedyCoreset } from './coreset';
import { SeededRandom } from './seeded-random';

const DIMENSION = 12;
const REDUCED = 6;
const SEED = 7;

/** Greedy k-center in plain arithmetic over the same projection: the reference the ONNX Loop must follow. */
function referencePicks(rows: Float32Array, count: number): number[] {
  const n = rows.length / DIMENSION;
  const projection = new SeededRandom(SEED).gaussians(DIMENSION * REDUCED, 1 / Math.sqrt(REDUCED));
  const reduced = Array.from({ length: n }, (_, row) =>
    Array.from({ length: REDUCED }, (_, j) => {
      let sum = 0;
      for (let i = 0; i < DIMENSION; i++) sum += rows[row * DIMENSION + i]! * projection[i * REDUCED + j]!;
      return sum;
    }),
  );
  const mean = Array.from({ length: REDUCED }, (_, j) => reduced.reduce((sum, row) => sum + row[j]!, 0) / n);
  const distance = (a: number[], b: number[]) => a.reduce((sum, value, j) => sum + (value - b[j]!) ** 2, 0);
  const spread = reduced.map((row) => distance(row, mean));
  const picks = [spread.indexOf(Math.max(...spread))];
  const nearest = reduced.map((row) => distance(row, reduced[picks[0]!]!));
  while (picks.length < count) {
    const next = nearest.indexOf(Math.max(...nearest));
    picks.push(next);
    reduced.forEach((row, i) => (nearest[i] = Math.min(nearest[i]!, distance(row, reduced[next]!))));
  }
  return picks;
}

describe('GreedyCoreset', () => {
  let coreset: GreedyCoreset;
  beforeAll(async () => {
    coreset = await GreedyCoreset.create(DIMENSION, { reducedDimension: REDUCED, seed: SEED, threads: 1 });
  });
  afterAll(() => coreset.release());

  it('picks the rows a plain greedy k-center picks, in the same order, centred', async () => {
    const random = new SeededRandom(3);
    const rows = random.gaussians(400 * DIMENSION, 5);
    const center = random.gaussians(DIMENSION, 1);
    const result = await coreset.select(rows, 40, { center });
    expect(result.count).toBe(40);
    const picks = referencePicks(rows, 40);
    picks.forEach((row, i) => {
      for (let j = 0; j < DIMENSION; j++) expect(result.rows[i * DIMENSION + j]).toBeCloseTo(rows[row * DIMENSION + j]! - center[j]!, 5);
    });
    expect(result.reducedRadius).toBeGreaterThan(0);
  });

  it('stops when every row coincides with a picked one, instead of picking duplicates', async () => {
    const distinct = new SeededRandom(4).gaussians(3 * DIMENSION, 1);
    const rows = new Float32Array(300 * DIMENSION);
    for (let row = 0; row < 300; row++) rows.set(distinct.subarray((row % 3) * DIMENSION, (row % 3 + 1) * DIMENSION), row * DIMENSION);
    const result = await coreset.select(rows, 50);
    expect(result.count).toBe(3);
    expect(result.reducedRadius).toBe(0);
    const picked = new Set(Array.from({ length: 3 }, (_, i) => result.rows.subarray(i * DIMENSION, (i + 1) * DIMENSION).join(',')));
    expect(picked.size).toBe(3);
  });

  it('stops once every row lies within the stop radius of a picked one', async () => {
    const rows = new SeededRandom(6).gaussians(500 * DIMENSION, 1);
    expect((await coreset.select(rows, 500)).count).toBe(500);
    const loose = await coreset.select(rows, 500, { stopRadius: 2 });
    expect(loose.count).toBeLessThan(500);
    expect(loose.reducedRadius).toBeLessThanOrEqual(2);
  });

  it('returns every row when asked for as many as there are, and refuses nonsense', async () => {
    const rows = new SeededRandom(5).gaussians(10 * DIMENSION, 1);
    expect((await coreset.select(rows, 25)).count).toBe(10);
    await expect(coreset.select(rows, 0)).rejects.toThrow(/positive whole count/);
    await expect(coreset.select(rows.subarray(1), 3)).rejects.toThrow(/\[n, 12\] matrix/);
  });
});
