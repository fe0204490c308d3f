import { describe, expect, it } from 'vitest';
import { parseRolloutPlan, InvalidRolloutPlanError } from './rollout-plan';
import { assignStages, UnknownCanaryError } from './stage-assignment';

const fleet = Array.from({ length: 200 }, (_, i) => ({ siteId: `site-${i % 3}`, deviceId: `box-${i}` }));

describe('assignStages', () => {
  const plan = parseRolloutPlan({
    stages: [
      { name: 'canary', devices: ['site-1/box-7', 'site-2/box-8'] },
      { name: 'tenth', percent: 10 },
      { name: 'all', percent: 100 },
    ],
  });

  it('puts the named canaries first, then fills each percentage of the group, and takes every device', () => {
    const stages = assignStages('r1', plan, 'default', fleet);
    const count = (stage: number) => [...stages.values()].filter((s) => s === stage).length;
    expect(stages.get('site-1/box-7')).toBe(0);
    expect(stages.get('site-2/box-8')).toBe(0);
    expect([count(0), count(1), count(2)]).toEqual([2, 18, 180]);
  });

  it('is stable for one rollout and differs between rollouts', () => {
    const tenth = (rolloutId: string) =>
      [...assignStages(rolloutId, plan, 'default', fleet)].filter(([, stage]) => stage === 1).map(([key]) => key).sort();
    expect(tenth('r1')).toEqual(tenth('r1'));
    expect(tenth('r1')).not.toEqual(tenth('r2'));
  });

  it('refuses a canary that is not in the group', () => {
    const unknown = parseRolloutPlan({ stages: [{ name: 'canary', devices: ['site-9/nope'] }, { name: 'all', percent: 100 }] });
    expect(() => assignStages('r1', unknown, 'line-a', fleet)).toThrow(UnknownCanaryError);
  });
});

describe('parseRolloutPlan', () => {
  it('names what to fix in a plan that does not end at 100%, shrinks, or names a device badly', () => {
    const attempt = () =>
      parseRolloutPlan({ stages: [{ name: 'a', percent: 50 }, { name: 'b', percent: 20, devices: ['no-slash'] }] });
    expect(attempt).toThrow(InvalidRolloutPlanError);
    try {
      attempt();
    } catch (error) {
      expect((error as InvalidRolloutPlanError).issues).toEqual([
        'stages.1.devices.0: must be "site/device", each part letters, digits, . _ - (for example "plant-a/line-3")',
        "stages.1.percent: must not be below an earlier stage's 50%",
        'stages.1.percent: the last stage must take 100% of the fleet group',
      ]);
    }
  });

  it('fills in defaults', () => {
    expect(parseRolloutPlan({ stages: [{ name: 'all', percent: 100 }] })).toMatchObject({
      maxUpdating: 50,
      stages: [{ bakeSeconds: 600, devices: [] }],
      gates: { minInspections: 200, maxUncertainRateRatio: 1.5, shadow: false },
    });
  });
});
