import { describe, expect, it } from 'vitest';
import { exampleRun, runningRun } from './example-training-run';
import { awaitsDecision, datasetText, isActive, numberedRuns, percent, phaseShare, pointsAhead, progressText, runDuration } from './training-display';

describe('training display', () => {
  it('keeps asking about queued and running runs only', () => {
    expect((['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const).map(isActive)).toEqual([true, true, false, false, false]);
  });

  it("draws the current phase's share, even when the cloud has not counted it yet or overshoots", () => {
    expect(phaseShare({ phase: 'features', done: 30, total: 120 })).toBe(0.25);
    expect(phaseShare({ phase: 'dataset', done: 0, total: 0 })).toBe(0);
    expect(phaseShare({ phase: 'training', done: 5, total: 4 })).toBe(1);
    expect(phaseShare({ phase: 'training', done: -1, total: 4 })).toBe(0);
    expect(progressText({ phase: 'features', done: 30, total: 120 })).toBe('Extracting features (step 2 of 5): 30 of 120');
  });

  it('writes metrics as percentages and the lead in points, with a dash for none', () => {
    expect([percent(0.8), percent(1), percent(0), percent(null), percent(Number.NaN)]).toEqual(['80.0%', '100.0%', '0.0%', '-', '-']);
    expect([pointsAhead(0.8, 0.76), pointsAhead(0.7, 0.8), pointsAhead(0.5, 0.5), pointsAhead(0.50001, 0.5)]).toEqual(['+4.0 pts', '−10.0 pts', '±0.0 pts', '±0.0 pts']);
  });

  it('offers approve and reject only while the candidate waits for them', () => {
    expect(awaitsDecision(exampleRun)).toBe(true);
    expect(awaitsDecision({ decision: 'first-model' })).toBe(true);
    for (const decision of ['lost', 'approved', 'rollout-started', 'rejected', null] as const) expect(awaitsDecision({ decision })).toBe(false);
  });

  it('says how long a run took, or has taken so far', () => {
    const now = new Date('2026-12-07T10:05:00.000Z');
    expect(runDuration(exampleRun, now)).toBe('30 s');
    expect(runDuration(runningRun, now)).toBe('4 min 59 s');
    expect(runDuration({ startedAt: null, finishedAt: null }, now)).toBe('-');
    expect(runDuration({ startedAt: '2026-12-07T08:00:00.000Z', finishedAt: '2026-12-07T09:30:00.000Z' }, now)).toBe('1 h 30 min');
    expect(datasetText(exampleRun.dataset)).toBe('120 labels (80 train, 10 val, 30 test)');
    expect(datasetText(null)).toBe('not frozen yet');
  });

  it('numbers runs in the order they were created and lists the newest first', () => {
    const runs = [
      { id: 'b', createdAt: '2026-12-07T10:00:00.000Z' },
      { id: 'c', createdAt: '2026-12-07T11:00:00.000Z' },
      { id: 'a', createdAt: '2026-12-07T10:00:00.000Z' },
    ];
    expect(numberedRuns(runs).map(({ run, number }) => [run.id, number])).toEqual([
      ['c', 3],
      ['b', 2],
      ['a', 1],
    ]);
  });
});
