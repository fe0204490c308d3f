import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EMPTY_COHORT, judgeCohorts, type CohortStats } from './cohort-gates';
import type { Cohorts } from './cohort-stats.repository';
import { RolloutConflictError } from './rollout-errors';
import { parseRolloutPlan, type RolloutPlanInput } from './rollout-plan';
import { judgesGates, planCommand, planRollout } from './rollout-planner';
import type { RolloutDeviceState, RolloutRecord, RolloutState } from './rollout-records';
import type { DeviceReport, RolloutDeviceView, RolloutSnapshot, RolloutStep } from './rollout-steps';

const NOW = new Date('2026-12-01T12:00:00.000Z');
const secondsAgo = (seconds: number) => new Date(NOW.getTime() - seconds * 1_000);

const PLAN: RolloutPlanInput = {
  stages: [
    { name: 'canary', percent: 25, bakeSeconds: 60 },
    { name: 'everyone', percent: 100, bakeSeconds: 60 },
  ],
  maxUpdating: 2,
  updateTimeoutSeconds: 300,
  gates: { minInspections: 100, dataTimeoutSeconds: 120, maxErrorRateIncrease: 0.01 },
};

function rollout(overrides: Partial<RolloutRecord> = {}, plan: RolloutPlanInput = PLAN): RolloutRecord {
  return {
    id: '00000000-0000-4000-8000-000000000001',
    modelName: 'bottle-caps',
    fromVersion: 1,
    toVersion: 2,
    fleetGroup: 'line-3',
    plan: parseRolloutPlan(plan),
    state: 'running',
    stage: 0,
    bakeStartedAt: null,
    reason: '',
    createdBy: 'engineer',
    createdAt: secondsAgo(3_600),
    updatedAt: secondsAgo(60),
    ...overrides,
  };
}

function device(id: string, stage: number, state: RolloutDeviceState, more: Partial<RolloutDeviceView> = {}): RolloutDeviceView {
  return { siteId: 'plant-a', deviceId: id, stage, state, detail: '', updatedAt: secondsAgo(30), report: undefined, telemetry: undefined, ...more };
}

const reported = (status: string, version: number, more: Partial<DeviceReport> = {}): { report: DeviceReport } => ({
  report: { answersLatest: true, status, activeName: 'bottle-caps', activeVersion: String(version), error: '', ...more },
});

/** A cohort of `inspections` with the given error rate, otherwise alike. */
function cohort(inspections: number, errorRate = 0): CohortStats {
  return {
    ...EMPTY_COHORT,
    devices: 2,
    inspections,
    errors: Math.round(inspections * errorRate),
    rejects: Math.round(inspections * 0.05),
    uncertain: Math.round(inspections * 0.04),
    confidenceHistogram: [0, 0, 0, 0, 0, 0, 0, 1, 3, 6].map((share) => (share * inspections) / 10),
    p99Ms: 20,
    shadowCompared: inspections,
    shadowDisagreed: 0,
  };
}

const healthy: Cohorts = { candidate: cohort(1_000), baseline: cohort(5_000), baselineFrom: 'same-devices' };

function snapshot(overrides: Partial<RolloutSnapshot> = {}): RolloutSnapshot {
  return {
    now: NOW,
    rollout: rollout(),
    devices: [device('a', 0, 'active'), device('b', 1, 'pending'), device('c', 1, 'pending'), device('d', 1, 'pending')],
    shadow: { startedAt: null, passed: false },
    cohorts: healthy,
    ...overrides,
  };
}

/** The first stage done and baked for `bakedSeconds`: the gates judge whatever `cohorts` say. */
const baked = (bakedSeconds: number, cohorts: Cohorts, stage = 0): RolloutSnapshot =>
  snapshot({ rollout: rollout({ stage, bakeStartedAt: secondsAgo(bakedSeconds) }), cohorts });

const kinds = (steps: RolloutStep[]) => steps.map((step) => (step.kind === 'record-event' ? `event:${step.action}` : step.kind));

describe('planRollout: gates after the bake', () => {
  it.each([
    ['a candidate like the baseline passes: the next stage starts', healthy, ['count-verdict', 'event:gate-passed', 'advance-stage', 'event:stage-started']],
    [
      'an error rate 0.011 above the baseline fails (limit 0.01): everything goes back',
      { ...healthy, candidate: cohort(1_000, 0.011) },
      ['count-verdict', 'event:gate-failed', 'begin-rollback', 'event:rollback-started', 'skip-devices', 'revert-devices'],
    ],
    ['an error rate 0.01 above the baseline is within the limit', { ...healthy, candidate: cohort(1_000, 0.01) }, ['count-verdict', 'event:gate-passed', 'advance-stage', 'event:stage-started']],
    ['no data within the data timeout: it waits', { ...healthy, candidate: cohort(99) }, []],
  ] as const)('%s', (_name, cohorts, expected) => {
    expect(kinds(planRollout(baked(60, cohorts)))).toEqual(expected);
  });

  it('pauses, never promotes, when data is still missing after the data timeout', () => {
    const steps = planRollout(baked(60 + 120, { ...healthy, baseline: cohort(10) }));
    expect(kinds(steps)).toEqual(['count-verdict', 'event:gate-no-data', 'pause', 'event:paused']);
    expect(steps).toContainEqual({ kind: 'count-verdict', verdict: 'no-data' });
    expect(steps).toContainEqual({ kind: 'pause', reason: 'missing data: baseline cohort has 10 of 100 inspections' });
  });

  it('names the failed gate in the rollback reason', () => {
    const steps = planRollout(baked(60, { ...healthy, candidate: cohort(1_000, 0.05) }));
    expect(steps).toContainEqual({ kind: 'begin-rollback', reason: 'gate failed at stage "canary": errors 0.050 > 0.01' });
    expect(steps).toContainEqual({ kind: 'revert-devices', devices: [{ siteId: 'plant-a', deviceId: 'a' }] });
    expect(steps).toContainEqual({ kind: 'skip-devices', devices: ['b', 'c', 'd'].map((deviceId) => ({ siteId: 'plant-a', deviceId })), leaveShadow: false });
  });

  it('promotes to the whole group after the last stage passes: the rollout succeeded', () => {
    const devices = ['a', 'b', 'c', 'd'].map((id) => device(id, id === 'a' ? 0 : 1, 'active'));
    const steps = planRollout({ ...baked(60, healthy, 1), devices });
    expect(kinds(steps)).toEqual(['count-verdict', 'event:gate-passed', 'succeed', 'event:succeeded']);
  });

  it('asks for the cohorts only once the bake is over', () => {
    expect(judgesGates(baked(60, healthy))).toBe(true);
    expect(judgesGates(baked(59, healthy))).toBe(false);
    expect(judgesGates(snapshot())).toBe(false);
  });

  it('starts the bake once every device of the stage runs the new version, and waits it out', () => {
    expect(kinds(planRollout(snapshot()))).toEqual(['start-bake', 'event:stage-baking']);
    expect(planRollout(baked(59, healthy))).toEqual([]);
  });
});

describe('planRollout: devices', () => {
  it('asks the pending devices of the current stage, no more than maxUpdating at once', () => {
    const devices = [device('a', 0, 'updating'), device('b', 0, 'pending'), device('c', 0, 'pending'), device('d', 1, 'pending')];
    expect(planRollout(snapshot({ devices }))).toEqual([{ kind: 'update-devices', devices: [{ siteId: 'plant-a', deviceId: 'b' }] }]);
  });

  it('advances no further while a device of the stage is still updating', () => {
    expect(planRollout(snapshot({ devices: [device('a', 0, 'updating'), device('b', 1, 'pending')] }))).toEqual([]);
  });

  it.each([
    ['a report of the new version active', reported('ACTIVE', 2), 'active'],
    ['telemetry naming the new version', { telemetry: { seenSinceChange: true, modelName: 'bottle-caps', modelVersion: '2' } }, 'active'],
    ['a report refusing it', reported('FAILED', 1, { error: 'hash mismatch' }), 'failed'],
  ] as const)('settles an updating device on %s', (_name, observed, state) => {
    const steps = planRollout(snapshot({ devices: [device('a', 0, 'updating', observed), device('b', 1, 'pending')] }));
    expect(steps[0]).toMatchObject({ kind: 'settle-devices', changes: [{ deviceId: 'a', state }] });
  });

  it.each([
    ['a report of an older generation', reported('ACTIVE', 2, { answersLatest: false })],
    ['telemetry from before the request', { telemetry: { seenSinceChange: false, modelName: 'bottle-caps', modelVersion: '2' } }],
  ])('does not settle a device on %s', (_name, observed) => {
    expect(planRollout(snapshot({ devices: [device('a', 0, 'updating', observed), device('b', 1, 'pending')] }))).toEqual([]);
  });

  it('rolls back at once when a canary crashes and rolls itself back, naming it', () => {
    const crashed = device('a', 0, 'active', {
      ...reported('ROLLED_BACK', 1, { error: 'probation: crashed 3 times' }),
      telemetry: { seenSinceChange: true, modelName: 'bottle-caps', modelVersion: '2' },
    });
    const steps = planRollout(snapshot({ devices: [crashed, device('b', 1, 'pending')] }));
    expect(kinds(steps)).toEqual(['settle-devices', 'event:gate-failed', 'count-verdict', 'begin-rollback', 'event:rollback-started', 'skip-devices', 'revert-devices']);
    expect(steps).toContainEqual({ kind: 'begin-rollback', reason: '1 device(s) failed version 2: plant-a/a: probation: crashed 3 times' });
  });

  it('pauses for missing data when a device has not answered within the update timeout', () => {
    const steps = planRollout(snapshot({ devices: [device('a', 0, 'updating', { updatedAt: secondsAgo(301) }), device('b', 1, 'pending')] }));
    expect(steps).toContainEqual({ kind: 'pause', reason: 'missing data: 1 device(s) have not reported version 2 within 300s' });
  });

  it('does nothing but settle devices while paused', () => {
    const devices = [device('a', 0, 'updating', reported('ACTIVE', 2)), device('b', 1, 'pending')];
    expect(kinds(planRollout(snapshot({ rollout: rollout({ state: 'paused' }), devices })))).toEqual(['settle-devices']);
  });
});

describe('planRollout: going back', () => {
  it.each([
    ['rolling_back', 'rolled_back'],
    ['aborting', 'aborted'],
  ] as const)('%s ends %s once the last device reports the old version again', (state, final) => {
    const devices = [device('a', 0, 'reverting', reported('ACTIVE', 1)), device('b', 1, 'skipped')];
    expect(kinds(planRollout(snapshot({ rollout: rollout({ state }), devices })))).toEqual(['settle-devices', 'finish-revert', `event:${final}`]);
  });

  it('waits for devices still reverting', () => {
    const devices = [device('a', 0, 'reverting'), device('b', 1, 'reverted')];
    expect(planRollout(snapshot({ rollout: rollout({ state: 'aborting' }), devices }))).toEqual([]);
  });

  it('an abort asks every touched device back at once, whatever maxUpdating says', () => {
    const devices = ['a', 'b', 'c'].map((id) => device(id, 0, 'active'));
    expect(planRollout(snapshot({ rollout: rollout({ state: 'aborting' }), devices }))).toEqual([{ kind: 'revert-devices', devices: devices.map(({ siteId, deviceId }) => ({ siteId, deviceId })) }]);
  });
});

describe('planRollout: shadow gates', () => {
  const shadowPlan = { ...PLAN, gates: { ...PLAN.gates, shadow: true, maxShadowDisagreement: 0.05 } };
  const shadowRollout = rollout({}, shadowPlan);
  const pending = [device('a', 0, 'pending'), device('b', 1, 'pending')];

  it('runs the candidate in shadow on every pending device before any serves it', () => {
    expect(kinds(planRollout(snapshot({ rollout: shadowRollout, devices: pending })))).toEqual(['start-shadow', 'event:shadow-started']);
  });

  it.each([
    [
      'disagreeing too often leaves shadow and, since no box served it, is rolled back at once',
      { ...cohort(1_000), shadowDisagreed: 100 },
      60,
      ['count-verdict', 'event:gate-failed', 'begin-rollback', 'event:rollback-started', 'skip-devices', 'finish-revert', 'event:rolled_back'],
    ],
    ['agreeing passes', cohort(1_000), 60, ['count-verdict', 'event:shadow-passed']],
    ['too few comparisons waits', { ...cohort(1_000), shadowCompared: 10 }, 60, []],
    ['too few comparisons after the data timeout pauses', { ...cohort(1_000), shadowCompared: 10 }, 121, ['count-verdict', 'event:gate-no-data', 'pause', 'event:paused']],
  ] as const)('%s', (_name, baseline, measuredSeconds, expected) => {
    const steps = planRollout(snapshot({ rollout: shadowRollout, devices: pending, shadow: { startedAt: secondsAgo(measuredSeconds), passed: false }, cohorts: { ...healthy, baseline } }));
    expect(kinds(steps)).toEqual(expected);
    if ((expected as readonly string[]).includes('skip-devices')) expect(steps).toContainEqual(expect.objectContaining({ kind: 'skip-devices', leaveShadow: true }));
  });

  it('goes on to the stages once shadow passed', () => {
    expect(kinds(planRollout(snapshot({ rollout: shadowRollout, devices: pending, shadow: { startedAt: secondsAgo(600), passed: true } })))).toEqual(['update-devices']);
  });
});

describe('planCommand', () => {
  const event = (action: string, reason: string) => ({ kind: 'record-event', actor: 'ana', action, detail: { reason, stage: 0 } });

  it.each([
    ['pause', 'running', [{ kind: 'pause', reason: 'night shift' }]],
    ['resume', 'paused', [{ kind: 'resume', restartTimers: true }]],
    ['abort', 'paused', [{ kind: 'abort', reason: 'night shift' }]],
    ['promote', 'running', [{ kind: 'advance-stage', stage: 1 }, { kind: 'record-event', actor: 'ana', action: 'stage-started', detail: { stage: 1, name: 'everyone' } }]],
    [
      'promote',
      'paused',
      [{ kind: 'advance-stage', stage: 1 }, { kind: 'record-event', actor: 'ana', action: 'stage-started', detail: { stage: 1, name: 'everyone' } }, { kind: 'resume', restartTimers: false }],
    ],
  ] as const)('%s on a %s rollout: its event with the reason, then the command', (command, state, steps) => {
    expect(planCommand(rollout({ state }), command, 'ana', 'night shift')).toEqual([event(command, 'night shift'), ...steps]);
  });

  it('an abort without a reason says a person aborted it', () => {
    expect(planCommand(rollout(), 'abort', 'ana', '')).toContainEqual({ kind: 'abort', reason: 'aborted by a person' });
  });

  it('promoting the last stage promotes to the whole group: the rollout succeeded, and stays so', () => {
    expect(kinds(planCommand(rollout({ state: 'paused', stage: 1 }), 'promote', 'ana', ''))).toEqual(['event:promote', 'succeed', 'event:succeeded']);
  });

  it.each([
    ['pause', 'paused'],
    ['resume', 'running'],
    ['abort', 'rolling_back'],
    ['promote', 'succeeded'],
  ] as const)('refuses %s on a %s rollout', (command, state) => {
    expect(() => planCommand(rollout({ state }), command, 'ana', '')).toThrow(RolloutConflictError);
  });
});

const STATES: RolloutState[] = ['running', 'paused', 'rolling_back', 'aborting'];
const DEVICE_STATES: RolloutDeviceState[] = ['pending', 'updating', 'active', 'failed', 'reverting', 'reverted', 'skipped'];

const arbitrarySnapshot = fc
  .record({
    state: fc.constantFrom(...STATES),
    stage: fc.constantFrom(0, 1),
    bakedSeconds: fc.option(fc.integer({ min: 0, max: 400 }), { nil: null }),
    devices: fc.array(
      fc.record({
        stage: fc.constantFrom(0, 1),
        state: fc.constantFrom(...DEVICE_STATES),
        ageSeconds: fc.integer({ min: 0, max: 400 }),
        status: fc.constantFrom('ACTIVE', 'FAILED', 'ROLLED_BACK', 'DOWNLOADING'),
        version: fc.constantFrom(1, 2),
      }),
      { minLength: 1, maxLength: 8 },
    ),
    candidate: fc.record({ inspections: fc.integer({ min: 0, max: 2_000 }), errorRate: fc.double({ min: 0, max: 0.1, noNaN: true }) }),
    baselineInspections: fc.integer({ min: 0, max: 2_000 }),
  })
  .map(
    (input): RolloutSnapshot & { cohorts: Cohorts } => ({
      now: NOW,
      rollout: rollout({ state: input.state, stage: input.stage, bakeStartedAt: input.bakedSeconds === null ? null : secondsAgo(input.bakedSeconds) }),
      devices: input.devices.map((d, index) => device(`d${index}`, d.stage, d.state, { updatedAt: secondsAgo(d.ageSeconds), ...reported(d.status, d.version) })),
      shadow: { startedAt: null, passed: false },
      cohorts: { candidate: cohort(input.candidate.inspections, input.candidate.errorRate), baseline: cohort(input.baselineInspections), baselineFrom: 'fleet-group' },
    }),
  );

describe('planRollout: properties', () => {
  it('never promotes past a gate that failed or had no data, and never both rolls back and moves forward', () => {
    fc.assert(
      fc.property(arbitrarySnapshot, (input) => {
        const steps = planRollout(input);
        const found = new Set(steps.map((step) => step.kind));
        const forward = found.has('advance-stage') || found.has('succeed') || found.has('update-devices') || found.has('start-bake');
        expect(forward && found.has('begin-rollback')).toBe(false);
        if (found.has('advance-stage') || found.has('succeed')) {
          const { candidate, baseline } = input.cohorts;
          expect(judgeCohorts(candidate, baseline, input.rollout.plan.gates).verdict).toBe('pass');
          expect(steps).toContainEqual({ kind: 'count-verdict', verdict: 'pass' });
        }
      }),
    );
  });

  it('needs the cohorts measured exactly when the gates judge', () => {
    fc.assert(
      fc.property(arbitrarySnapshot, ({ cohorts, ...observation }) => {
        if (judgesGates(observation)) expect(() => planRollout(observation)).toThrow(/cohorts were not measured/);
        else expect(planRollout(observation)).toEqual(planRollout({ ...observation, cohorts }));
      }),
    );
  });

  it('takes at most one decision a pass (pause, roll back, advance, succeed), and none while paused', () => {
    const decisions = new Set<string>(['pause', 'begin-rollback', 'advance-stage', 'succeed']);
    fc.assert(
      fc.property(arbitrarySnapshot, (input) => {
        const taken = planRollout(input).filter((step) => decisions.has(step.kind));
        expect(taken.length).toBeLessThanOrEqual(input.rollout.state === 'running' ? 1 : 0);
      }),
    );
  });
});
