import { describe, expect, it } from 'vitest';
import { fieldsOf, policyOf } from './policy-fields';

const POLICY = { margin: 0.07, promotion: 'approval', everyNewLabels: 50, everyHours: null, fleetGroup: 'line-3' } as const;

describe('training policy form', () => {
  it('shows the margin in points of macro-F1 and empty triggers as blank, and reads them back', () => {
    const fields = fieldsOf(POLICY);
    expect(fields).toEqual({ marginPoints: '7', promotion: 'approval', everyNewLabels: '50', everyHours: '', fleetGroup: 'line-3' });
    expect(policyOf(fields)).toEqual({ ok: true, policy: POLICY });
  });

  it('keeps a rollout plan set through the API, which the form does not edit', () => {
    const rolloutPlan = { stages: [{ name: 'canary', percent: 5, bakeSeconds: 300 }] };
    expect(policyOf(fieldsOf({ ...POLICY, rolloutPlan }))).toEqual({ ok: true, policy: { ...POLICY, rolloutPlan } });
  });

  it('reads an auto-rollout policy on a schedule', () => {
    const parsed = policyOf({ marginPoints: ' 0.5 ', promotion: 'auto-rollout', everyNewLabels: '', everyHours: '6', fleetGroup: ' default ' });
    expect(parsed).toEqual({ ok: true, policy: { margin: 0.005, promotion: 'auto-rollout', everyNewLabels: null, everyHours: 6, fleetGroup: 'default' } });
  });

  it('names each field it cannot accept', () => {
    const parsed = policyOf({ marginPoints: 'lots', promotion: 'whenever', everyNewLabels: '2.5', everyHours: '0.1', fleetGroup: '' });
    expect(parsed.ok).toBe(false);
    const problems = parsed.ok ? [] : parsed.problems;
    for (const field of ['Margin', 'Promotion', 'Every N new labels', 'Every H hours', 'Fleet group']) expect(problems.some((problem) => problem.startsWith(`${field}:`)), field).toBe(true);
    expect(policyOf({ ...fieldsOf(POLICY), marginPoints: '150' })).toMatchObject({ ok: false, problems: [expect.stringMatching(/^Margin:/)] });
  });
});
