import { trainingRecipeSchema } from '@loupe/api-contracts';
import { describe, expect, it } from 'vitest';
import { type LabeledSet, type LoopSettings, seededRandom, simulateLoop } from './learning-loop';
import type { Strategy } from './pool-selection';

/** Three classes as blobs around the corners of a triangle in 4-D, at two stations. */
function blobs(count: number, seed: number): LabeledSet {
  const random = seededRandom(seed);
  const centres = [
    [3, 0, 0, 1],
    [0, 3, 0, 1],
    [0, 0, 3, 1],
  ];
  const labels = Array.from({ length: count }, (_, i) => i % 3);
  return {
    ids: labels.map((_, i) => `${seed}-${i}`),
    features: labels.map((label) => Float32Array.from(centres[label]!, (value) => value + 2 * (random() - 0.5))),
    labels,
    stations: labels.map((_, i) => (i % 2 === 0 ? 'a' : 'b')),
  };
}

const settings: LoopSettings = {
  classes: ['x', 'y', 'z'],
  featureOutput: 'features',
  recipe: trainingRecipeSchema.parse({ l2Candidates: [1e-2], maxIterations: 50 }),
  seedLabels: 6,
  roundLabels: 4,
  maxLabels: 30,
  stopAtAccuracy: 1.01,
};
const margin: Strategy = { name: 'margin', measure: 'margin', diversity: 0.3, randomShare: 0.25 };

describe('simulateLoop', () => {
  const pool = blobs(120, 1);
  const test = blobs(60, 2);

  it('adds roundLabels a round up to maxLabels, training after each', () => {
    const run = simulateLoop(pool, test, margin, 1, settings);
    expect(run.curve.map((point) => point.labels)).toEqual([6, 10, 14, 18, 22, 26, 30]);
    expect(run.trainings).toBe(7);
    expect(run.curve.at(-1)!.accuracy).toBeGreaterThan(0.9);
  });

  it('stops at the round that reaches stopAtAccuracy', () => {
    const run = simulateLoop(pool, test, margin, 1, { ...settings, stopAtAccuracy: 0.5 });
    expect(run.curve.at(-1)!.accuracy).toBeGreaterThanOrEqual(0.5);
    expect(run.curve.slice(0, -1).every((point) => point.accuracy < 0.5)).toBe(true);
  });

  it('is repeatable for a seed', () => {
    expect(simulateLoop(pool, test, margin, 3, settings).curve).toEqual(simulateLoop(pool, test, margin, 3, settings).curve);
  });
});
