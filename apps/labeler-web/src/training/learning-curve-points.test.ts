import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { exampleEvaluation, exampleRun, runningRun } from './example-training-run';
import { learningCurve, linearScale, linePath, niceTicks, scoreDomain } from './learning-curve-points';

const finished = (id: string, labels: number, accuracy: number, createdAt = '2026-12-07T10:00:00.000Z') => ({
  ...exampleRun,
  id,
  createdAt,
  dataset: { ...exampleRun.dataset!, labels },
  challenger: { ...exampleEvaluation, accuracy, macroF1: accuracy - 0.02 },
});

describe('learning curve', () => {
  it('plots each finished run by its label count, fewest first, and leaves out runs without a challenger', () => {
    const runs = [finished('c', 200, 0.8), runningRun, { ...finished('f', 150, 0.5), state: 'failed' as const }, finished('a', 50, 0.6), finished('b', 50, 0.62, '2026-12-07T11:00:00.000Z')];
    expect(learningCurve(runs)).toEqual([
      { runId: 'a', labels: 50, accuracy: 0.6, macroF1: 0.58 },
      { runId: 'b', labels: 50, accuracy: 0.62, macroF1: 0.6 },
      { runId: 'c', labels: 200, accuracy: 0.8, macroF1: 0.78 },
    ]);
  });

  it('scales linearly, flips for SVG y, and centres a single value', () => {
    const x = linearScale([50, 250], [40, 440]);
    expect([x(50), x(150), x(250)]).toEqual([40, 240, 440]);
    const y = linearScale([0, 1], [200, 0]);
    expect([y(0), y(0.25), y(1)]).toEqual([200, 150, 0]);
    expect(linearScale([7, 7], [40, 440])(7)).toBe(240);
  });

  it('ticks at round numbers within the range', () => {
    expect(niceTicks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0.5, 0.9, 4)).toEqual([0.5, 0.6, 0.7, 0.8, 0.9]);
    expect(niceTicks(37, 412)).toEqual([100, 200, 300, 400]);
    expect(niceTicks(5, 5)).toEqual([5]);
    expect(niceTicks(3, 1)).toEqual([]);
    fc.assert(
      fc.property(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.double({ min: 1e-3, max: 1e6, noNaN: true }), (min, width) => {
        const ticks = niceTicks(min, min + width);
        expect(ticks.length).toBeGreaterThanOrEqual(1);
        expect(ticks.length).toBeLessThanOrEqual(11);
        for (const tick of ticks) expect(tick).toBeGreaterThanOrEqual(min - width * 1e-6);
      }),
    );
  });

  it('zooms the score axis to whole tenths around the scores, never past 0 or 1', () => {
    expect(scoreDomain([])).toEqual([0, 1]);
    expect(scoreDomain(learningCurve([finished('a', 50, 0.6), finished('b', 100, 0.66)]))).toEqual([0.5, 0.8]);
    expect(scoreDomain(learningCurve([finished('a', 50, 0.99)]))).toEqual([0.9, 1]);
    expect(scoreDomain(learningCurve([finished('a', 50, 0.03)]))).toEqual([0, 0.1]);
  });

  it('draws a path through the points in order', () => {
    const points = learningCurve([finished('a', 0, 0.5), finished('b', 100, 1)]);
    expect(linePath(points, linearScale([0, 100], [0, 100]), linearScale([0, 1], [100, 0]), (point) => point.accuracy)).toBe('M0.0,50.0 L100.0,0.0');
  });
});
