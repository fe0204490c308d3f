import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dueTrigger, type LatestRun, type TriggerSnapshot } from './trigger-planner';

const NOW = new Date('2026-12-07T12:00:00.000Z');
const hoursAgo = (hours: number) => new Date(NOW.getTime() - hours * 3_600_000);

const snapshot = (overrides: Partial<TriggerSnapshot> = {}): TriggerSnapshot => ({
  everyNewLabels: 50,
  everyHours: null,
  settledLabels: 0,
  latestRun: undefined,
  triggered: null,
  now: NOW,
  ...overrides,
});
const run = (overrides: Partial<LatestRun> = {}): LatestRun => ({ state: 'succeeded', createdAt: hoursAgo(1), datasetLabels: 100, ...overrides });

describe('dueTrigger', () => {
  it.each<[string, Partial<TriggerSnapshot>, ReturnType<typeof dueTrigger>]>([
    ['fewer new labels than N since the last dataset: nothing', { settledLabels: 149, latestRun: run() }, undefined],
    ['N new labels since the last dataset: a run', { settledLabels: 150, latestRun: run() }, 'new-labels'],
    ['N labels and never a run: a run', { settledLabels: 50 }, 'new-labels'],
    ['a queued run takes the labels: nothing', { settledLabels: 500, latestRun: run({ state: 'queued', datasetLabels: null }) }, undefined],
    ['a running run takes the labels: nothing', { settledLabels: 500, latestRun: run({ state: 'running' }) }, undefined],
    ['a run that failed before its dataset is not retried on the labels the triggers saw', { settledLabels: 160, latestRun: run({ state: 'failed', datasetLabels: null }), triggered: { at: hoursAgo(1), labels: 150 } }, undefined],
    ['but is once N more labels settle', { settledLabels: 200, latestRun: run({ state: 'failed', datasetLabels: null }), triggered: { at: hoursAgo(1), labels: 150 } }, 'new-labels'],
    ['no count trigger: nothing however many', { everyNewLabels: null, settledLabels: 10_000, latestRun: run() }, undefined],
    ['schedule due and labels changed: a run', { everyNewLabels: null, everyHours: 1, settledLabels: 101, latestRun: run() }, 'schedule'],
    ['schedule due but no label changed: nothing', { everyNewLabels: null, everyHours: 1, settledLabels: 100, latestRun: run() }, undefined],
    ['schedule not yet due: nothing', { everyNewLabels: null, everyHours: 2, settledLabels: 120, latestRun: run() }, undefined],
    ['the schedule counts from the triggers\' own last start too', { everyNewLabels: null, everyHours: 2, settledLabels: 120, latestRun: run({ createdAt: hoursAgo(5) }), triggered: { at: hoursAgo(1), labels: 100 } }, undefined],
    ['a schedule and labels but never a run: a run', { everyNewLabels: null, everyHours: 24, settledLabels: 3 }, 'schedule'],
    ['the count trigger wins when both are due', { everyHours: 1, settledLabels: 150, latestRun: run() }, 'new-labels'],
  ])('%s', (_, overrides, due) => {
    expect(dueTrigger(snapshot(overrides))).toBe(due);
  });

  it('never starts a run beside a queued or running one, nor without new labels', () => {
    const states = fc.constantFrom('queued' as const, 'running' as const, 'succeeded' as const, 'failed' as const, 'cancelled' as const);
    fc.assert(
      fc.property(
        fc.nat(1_000),
        fc.option(fc.nat(1_000), { nil: null }),
        states,
        fc.option(fc.integer({ min: 1, max: 200 }), { nil: null }),
        fc.option(fc.double({ min: 0.25, max: 48, noNaN: true }), { nil: null }),
        (settled, datasetLabels, state, everyNewLabels, everyHours) => {
          const due = dueTrigger(snapshot({ settledLabels: settled, latestRun: run({ state, datasetLabels }), everyNewLabels, everyHours }));
          if (state === 'queued' || state === 'running') expect(due).toBeUndefined();
          if (settled === (datasetLabels ?? 0)) expect(due).toBeUndefined();
        },
      ),
    );
  });
});
