import { describe, expect, it } from 'vitest';
import { confidenceShift, EMPTY_COHORT, judgeCohorts, judgeShadow, type CohortStats } from './cohort-gates';
import { rolloutGatesSchema } from './rollout-plan';

const gates = rolloutGatesSchema.parse({ minInspections: 100 });

/** A cohort of `inspections` with the given rates, confident like a healthy model. */
function cohort(inspections: number, rates: Partial<{ errors: number; rejects: number; uncertain: number; p99Ms: number }> = {}): CohortStats {
  return {
    ...EMPTY_COHORT,
    devices: 4,
    inspections,
    errors: Math.round(inspections * (rates.errors ?? 0)),
    rejects: Math.round(inspections * (rates.rejects ?? 0.05)),
    uncertain: Math.round(inspections * (rates.uncertain ?? 0.04)),
    confidenceHistogram: [0, 0, 0, 0, 0, 0, 0, 1, 3, 6].map((share) => (share * inspections) / 10),
    p99Ms: rates.p99Ms ?? 20,
  };
}

describe('judgeCohorts', () => {
  it('passes a candidate that behaves like the baseline', () => {
    const verdict = judgeCohorts(cohort(1_000), cohort(5_000), gates);
    expect(verdict.verdict).toBe('pass');
  });

  it('fails a candidate whose uncertain-sample rate doubled, naming the gate', () => {
    const verdict = judgeCohorts(cohort(1_000, { uncertain: 0.08 }), cohort(5_000, { uncertain: 0.04 }), gates);
    expect(verdict).toMatchObject({ verdict: 'fail', failed: ['uncertain-rate'] });
  });

  it.each([
    ['errors', { errors: 0.05 }],
    ['reject-rate', { rejects: 0.2 }],
    ['p99-latency', { p99Ms: 45 }],
  ] as const)('fails on %s', (gate, rates) => {
    expect(judgeCohorts(cohort(1_000, rates), cohort(5_000), gates)).toMatchObject({ verdict: 'fail', failed: [gate] });
  });

  it('fails an overconfident candidate on the shift of its confidence histogram', () => {
    const overconfident = { ...cohort(1_000), confidenceHistogram: [0, 0, 0, 0, 0, 0, 0, 0, 0, 1_000] };
    expect(judgeCohorts(overconfident, cohort(5_000), gates)).toMatchObject({ verdict: 'fail', failed: ['confidence-shift'] });
  });

  it('never passes on missing data: too few inspections on either side', () => {
    expect(judgeCohorts(cohort(99), cohort(5_000), gates)).toEqual({
      verdict: 'no-data',
      missing: ['candidate cohort has 99 of 100 inspections'],
    });
    expect(judgeCohorts(cohort(1_000), EMPTY_COHORT, gates).verdict).toBe('no-data');
  });

  it('judges shadow disagreement on its own: too few comparisons is no data, above the limit fails', () => {
    const shadowGates = rolloutGatesSchema.parse({ minInspections: 100, shadow: true });
    const baseline = { ...cohort(5_000), shadowCompared: 1_000, shadowDisagreed: 120 };
    expect(judgeShadow(baseline, shadowGates)).toMatchObject({ verdict: 'fail', failed: ['shadow-disagreement'] });
    expect(judgeShadow({ ...baseline, shadowDisagreed: 20 }, shadowGates).verdict).toBe('pass');
    expect(judgeShadow({ ...baseline, shadowCompared: 10 }, shadowGates)).toEqual({ verdict: 'no-data', missing: ['shadow comparisons: 10 of 100'] });
    // The stage gates leave shadow data alone.
    expect(judgeCohorts(cohort(1_000), baseline, shadowGates).verdict).toBe('pass');
  });
});

describe('confidenceShift', () => {
  it('is 0 for the same shape at any scale and 1 for disjoint histograms', () => {
    expect(confidenceShift([1, 2, 3], [10, 20, 30])).toBeCloseTo(0);
    expect(confidenceShift([5, 0], [0, 7])).toBeCloseTo(1);
  });
});
