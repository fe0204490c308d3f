import { describe, expect, it } from 'vitest';
import { exampleDetail } from './example-rollout';
import { currentStageName, deviceCounts, stageRows } from './stage-rows';

describe('stageRows', () => {
  it('lists the stages in order, marks the current one and counts its devices by state', () => {
    expect(stageRows(exampleDetail)).toEqual([
      { index: 0, name: 'canary', takes: 'plant-7/aoi-01', bake: '10 min', devices: '1 active', mark: 'done' },
      { index: 1, name: 'half', takes: '50% of the group', bake: '30 min', devices: '1 updating · 1 active', mark: 'current' },
      { index: 2, name: 'all', takes: '100% of the group', bake: 'none', devices: '1 pending', mark: 'upcoming' },
    ]);
  });

  it('marks every stage done once the rollout succeeded', () => {
    expect(stageRows({ ...exampleDetail, state: 'succeeded', stage: 2 }).map((row) => row.mark)).toEqual(['done', 'done', 'done']);
  });

  it('marks where a rollback or an abort stopped the rollout', () => {
    expect(stageRows({ ...exampleDetail, state: 'rolled_back', stage: 0 }).map((row) => row.mark)).toEqual(['stopped', 'upcoming', 'upcoming']);
    expect(stageRows({ ...exampleDetail, state: 'rolling_back', stage: 0 }).map((row) => row.mark)).toEqual(['current', 'upcoming', 'upcoming']);
  });

  it('names canaries while there are few, and counts them past that', () => {
    const stages = [{ name: 'canary', devices: ['a/1', 'a/2', 'a/3', 'a/4'], percent: 10, bakeSeconds: 60 }];
    expect(stageRows({ ...exampleDetail, plan: { ...exampleDetail.plan, stages }, stage: 0 })[0]?.takes).toBe('4 named devices + 10% of the group');
  });
});

describe('deviceCounts', () => {
  it('counts in the order devices move through, and says when there are none', () => {
    expect(deviceCounts(['failed', 'active', 'pending', 'active'])).toBe('1 pending · 2 active · 1 failed');
    expect(deviceCounts([])).toBe('no devices');
  });
});

describe('currentStageName', () => {
  it('names the stage the rollout is at', () => {
    expect(currentStageName(exampleDetail)).toBe('half');
    expect(currentStageName({ ...exampleDetail, stage: 9 })).toBe('all');
  });
});
