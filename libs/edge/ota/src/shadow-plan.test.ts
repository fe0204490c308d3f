import { describe, expect, it } from 'vitest';
import type { DesiredModel, ModelVersion } from '@loupe/device-state';
import { planShadow, type ShadowState, type ShadowStep } from './shadow-plan';
import { planUpdate, type BoxState } from './update-plan';

const version = (v: string): ModelVersion => ({ name: 'pcb-aoi', version: v, sha256: v.repeat(64) });
const V1 = version('1');
const V2 = version('2');
const V3 = version('3');
const pkg = (model: ModelVersion) => ({ url: `https://cloud.example/api/fleet/packages/pcb-aoi/${model.version}`, size: 1_000, sha256: 'a'.repeat(64) });

function desired(model: ModelVersion, generation: number, shadow?: ModelVersion): DesiredModel {
  return { generation, model, package: pkg(model), rolloutId: 'r-1', ...(shadow ? { shadow: { model: shadow, package: pkg(shadow) } } : {}) };
}

const kinds = (steps: ShadowStep[]) => steps.map((step) => (step.kind === 'nothing' ? `nothing:${step.reason}` : step.kind));
const ON_V1: BoxState = { active: V1, settledGeneration: 1, failures: [] };
const FETCH = ['download', 'verify', 'stage', 'warm-up'];

describe('planShadow', () => {
  const cases: { name: string; desired: DesiredModel; box: BoxState; shadow: ShadowState; plan: string[] }[] = [
    { name: 'no shadow asked and none running needs nothing', desired: desired(V1, 2), box: ON_V1, shadow: {}, plan: ['nothing:no-shadow'] },
    { name: 'a new shadow is fetched, checked, staged and loaded', desired: desired(V1, 2, V2), box: ON_V1, shadow: {}, plan: FETCH },
    { name: 'a staged shadow only needs loading', desired: desired(V1, 2, V2), box: { ...ON_V1, staged: V2 }, shadow: {}, plan: ['warm-up'] },
    { name: 'the running shadow needs nothing', desired: desired(V1, 3, V2), box: ON_V1, shadow: { running: V2 }, plan: ['nothing:up-to-date'] },
    { name: 'another shadow replaces the running one', desired: desired(V1, 3, V3), box: ON_V1, shadow: { running: V2 }, plan: FETCH },
    { name: 'a desired state without shadow stops the running one', desired: desired(V1, 3), box: ON_V1, shadow: { running: V2 }, plan: ['stop'] },
    { name: 'a shadow that is the active model is stopped', desired: desired(V2, 3, V2), box: { ...ON_V1, active: V2 }, shadow: { running: V2 }, plan: ['stop'] },
    {
      name: 'a shadow that failed for this generation is not tried again',
      desired: desired(V1, 2, V2),
      box: ON_V1,
      shadow: { failed: { model: V2, generation: 2 } },
      plan: ['nothing:failed-before'],
    },
    {
      name: 'a shadow that killed the agent while loading is not tried again',
      desired: desired(V1, 2, V2),
      box: { ...ON_V1, failures: [{ model: V2, generation: 2, step: 'warm-up', reason: 'crashes', message: 'died' }] },
      shadow: {},
      plan: ['nothing:failed-before'],
    },
    { name: 'a newer generation tries a failed shadow again', desired: desired(V1, 3, V2), box: ON_V1, shadow: { failed: { model: V2, generation: 2 } }, plan: FETCH },
  ];

  it.each(cases)('$name', ({ desired: wanted, box, shadow, plan }) => {
    expect(kinds(planShadow(wanted, box, shadow))).toEqual(plan);
  });

  it('fetches the shadow as a desired model of its own, with no signature to match', () => {
    const [download] = planShadow(desired(V1, 2, V2), ON_V1, {});
    expect(download).toEqual({ kind: 'download', target: { generation: 2, model: V2, package: pkg(V2), rolloutId: 'r-1' } });
  });

  it('leaves the main plan alone: the active model with a shadow is up to date', () => {
    expect(planUpdate(desired(V1, 2, V2), ON_V1)).toEqual([{ kind: 'nothing', reason: 'up-to-date' }]);
    expect(kinds(planShadow(desired(V1, 2, V2), ON_V1, {}))).toEqual(FETCH);
  });
});
