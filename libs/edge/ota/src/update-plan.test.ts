import { describe, expect, it } from 'vitest';
import { sameModel, type DesiredModel, type ModelVersion } from '@loupe/device-state';
import { planUpdate, withFailure, type BoxState, type UpdateFailure, type UpdateStep } from './update-plan';

/** Versions are single digits here, so the digit repeated is a distinct SHA-256. */
const version = (name: string, v: string): ModelVersion => ({ name, version: v, sha256: v.repeat(64) });
const V1 = version('pcb-aoi', '1');
const V2 = version('pcb-aoi', '2');
const V3 = version('pcb-aoi', '3');

function desired(model: ModelVersion, generation: number): DesiredModel {
  return {
    generation,
    model,
    package: { url: `https://cloud.example/api/fleet/packages/${model.name}/${model.version}`, size: 1_000, sha256: 'a'.repeat(64) },
    rolloutId: '',
  };
}

const failure = (model: ModelVersion, generation: number): UpdateFailure => ({
  model,
  generation,
  step: 'verify',
  reason: 'hash-mismatch',
  message: 'manifest.json does not match the signed manifest',
});

const kinds = (steps: UpdateStep[]) => steps.map((step) => (step.kind === 'nothing' ? `nothing:${step.reason}` : step.kind));
const FULL = ['download', 'verify', 'stage', 'warm-up', 'self-test', 'activate'];

describe('planUpdate', () => {
  const cases: { name: string; desired: DesiredModel; box: BoxState; plan: string[] }[] = [
    { name: 'a fresh box goes the whole way', desired: desired(V1, 1), box: { failures: [] }, plan: FULL },
    { name: 'a new version goes the whole way', desired: desired(V2, 2), box: { active: V1, settledGeneration: 1, failures: [] }, plan: FULL },
    { name: 'the active version needs nothing', desired: desired(V2, 3), box: { active: V2, previous: V1, settledGeneration: 2, failures: [] }, plan: ['nothing:up-to-date'] },
    {
      name: 'the same generation again needs nothing',
      desired: desired(V2, 2),
      box: { active: V2, previous: V1, settledGeneration: 2, failures: [] },
      plan: ['nothing:up-to-date'],
    },
    {
      name: 'an older generation arriving late changes nothing',
      desired: desired(V1, 1),
      box: { active: V2, previous: V1, settledGeneration: 2, failures: [] },
      plan: ['nothing:stale-generation'],
    },
    {
      name: 'a settled generation naming another model changes nothing',
      desired: desired(V3, 4),
      box: { active: V2, previous: V1, settledGeneration: 4, failures: [] },
      plan: ['nothing:duplicate-generation'],
    },
    { name: 'the previous version comes back locally', desired: desired(V1, 3), box: { active: V2, previous: V1, settledGeneration: 2, failures: [] }, plan: ['roll-back'] },
    {
      name: 'a staged version is only loaded',
      desired: desired(V2, 2),
      box: { active: V1, staged: V2, settledGeneration: 1, failures: [] },
      plan: ['warm-up', 'self-test', 'activate'],
    },
    {
      name: 'a version that failed for this generation is not tried again',
      desired: desired(V2, 2),
      box: { active: V1, settledGeneration: 2, failures: [failure(V2, 2)] },
      plan: ['nothing:failed-before'],
    },
    {
      name: 'a version rolled back on probation is not tried again for the same generation',
      desired: desired(V2, 2),
      box: { active: V1, previous: V2, settledGeneration: 2, failures: [{ ...failure(V2, 2), step: 'probation', reason: 'crashes' }] },
      plan: ['nothing:failed-before'],
    },
    {
      name: 'a newer generation tries a failed version again',
      desired: desired(V2, 3),
      box: { active: V1, settledGeneration: 2, failures: [failure(V2, 2)] },
      plan: FULL,
    },
    {
      name: 'a failure of another build of the same version does not count',
      desired: desired({ ...V2, sha256: 'f'.repeat(64) }, 3),
      box: { active: V1, settledGeneration: 2, failures: [failure(V2, 3)] },
      plan: FULL,
    },
    {
      name: 'a different build under the active version number is installed',
      desired: desired({ ...V1, sha256: 'e'.repeat(64) }, 2),
      box: { active: V1, settledGeneration: 1, failures: [] },
      plan: FULL,
    },
    {
      name: 'an update interrupted before it settled is planned again',
      desired: desired(V2, 2),
      box: { active: V1, settledGeneration: 1, failures: [] },
      plan: FULL,
    },
    {
      name: 'a model on probation gives way to a newer desired version',
      desired: desired(V3, 3),
      box: { active: V2, previous: V1, probation: { model: V2, startedAt: 0, crashes: 1 }, settledGeneration: 2, failures: [] },
      plan: FULL,
    },
  ];

  it.each(cases)('$name', ({ desired: wanted, box, plan }) => {
    expect(kinds(planUpdate(wanted, box))).toEqual(plan);
  });

  it('names the version to roll back to, and every step carries the desired state it serves', () => {
    const wanted = desired(V1, 3);
    expect(planUpdate(wanted, { active: V2, previous: V1, failures: [] })).toEqual([{ kind: 'roll-back', desired: wanted, to: V1 }]);
    for (const step of planUpdate(desired(V3, 4), { active: V2, failures: [] })) expect(step).toMatchObject({ desired: { generation: 4 } });
  });

  it('reports the failure that stops a retry', () => {
    const earlier = failure(V2, 2);
    expect(planUpdate(desired(V2, 2), { active: V1, failures: [earlier] })).toEqual([{ kind: 'nothing', reason: 'failed-before', failure: earlier }]);
  });
});

/**
 * A box that applies plans as a perfect executor would, so sequences of
 * desired messages can be checked without I/O.
 */
function reconcile(box: BoxState, messages: DesiredModel[]): BoxState {
  let state = box;
  for (const message of messages) {
    for (const step of planUpdate(message, state)) state = apply(state, step, message);
  }
  return state;
}

function apply(box: BoxState, step: UpdateStep, message: DesiredModel): BoxState {
  switch (step.kind) {
    case 'nothing':
      return step.reason === 'up-to-date' ? { ...box, settledGeneration: message.generation } : box;
    case 'download':
    case 'verify':
    case 'warm-up':
    case 'self-test':
      return box;
    case 'stage':
      return { ...box, staged: step.desired.model };
    case 'activate':
    case 'roll-back': {
      const { staged: _, ...rest } = box;
      const previous = box.active;
      return { ...rest, active: step.desired.model, ...(previous ? { previous } : {}), settledGeneration: step.desired.generation };
    }
  }
}

describe('a sequence of desired messages', () => {
  const start: BoxState = { active: V1, settledGeneration: 1, failures: [] };

  it('ends the same when a message is delivered twice', () => {
    const once = reconcile(start, [desired(V2, 2), desired(V3, 3)]);
    const twice = reconcile(start, [desired(V2, 2), desired(V2, 2), desired(V3, 3), desired(V3, 3), desired(V2, 2)]);
    expect(twice).toEqual(once);
    expect(once.active).toEqual(V3);
  });

  it('ends on the newest generation whatever the order of delivery', () => {
    const messages = [desired(V2, 2), desired(V3, 3), desired(V1, 4)];
    const orders = [
      [0, 1, 2],
      [0, 2, 1],
      [1, 0, 2],
      [2, 0, 1],
      [2, 1, 0],
    ];
    for (const order of orders) {
      const result = reconcile(start, order.map((index) => messages[index]!));
      expect(result.active, `order ${order.join(',')}`).toEqual(V1);
      expect(result.settledGeneration).toBe(4);
    }
  });

  it('does not go back to a version an older message names', () => {
    const result = reconcile(start, [desired(V3, 3), desired(V2, 2)]);
    expect(sameModel(result.active, V3)).toBe(true);
  });
});

describe('withFailure', () => {
  it('keeps one failure per version, the latest, and forgets the oldest versions past the limit', () => {
    const failures = withFailure(withFailure([failure(V1, 1), failure(V2, 2)], failure(V1, 5)), failure(V3, 6), 2);
    expect(failures.map((entry) => [entry.model.version, entry.generation])).toEqual([
      ['1', 5],
      ['3', 6],
    ]);
  });
});
