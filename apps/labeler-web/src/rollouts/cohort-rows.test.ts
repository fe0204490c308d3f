import { describe, expect, it } from 'vitest';
import { baselineSource, cohortRows } from './cohort-rows';
import { cohort, exampleDetail } from './example-rollout';

describe('cohortRows', () => {
  it('puts each gate metric of the candidate beside the baseline', () => {
    expect(cohortRows(exampleDetail)).toEqual([
      { metric: 'Devices', candidate: '2', baseline: '4' },
      { metric: 'Inspections', candidate: '1,000', baseline: '4,000' },
      { metric: 'Error rate', candidate: '0.20%', baseline: '0.10%' },
      { metric: 'p99 latency', candidate: '12 ms', baseline: '12 ms' },
      { metric: 'Mean confidence', candidate: '0.87', baseline: '0.87' },
      { metric: 'Reject rate', candidate: '5.0%', baseline: '1.3%' },
      { metric: 'Uncertain rate', candidate: '2.0%', baseline: '0.50%' },
    ]);
  });

  it('shows dashes for a cohort with no inspections yet, not zeros', () => {
    const empty = cohort({ devices: 0, inspections: 0, errors: 0, rejects: 0, uncertain: 0, confidenceHistogram: new Array<number>(10).fill(0), p99Ms: 0 });
    const rows = cohortRows({ ...exampleDetail, cohorts: { ...exampleDetail.cohorts, candidate: empty } });
    expect(rows.map((row) => row.candidate)).toEqual(['0', '0', '-', '-', '-', '-', '-']);
  });

  it('adds shadow disagreement when the plan runs the candidate in shadow', () => {
    const plan = { ...exampleDetail.plan, gates: { ...exampleDetail.plan.gates, shadow: true } };
    const baseline = cohort({ shadowCompared: 800, shadowDisagreed: 12 });
    const rows = cohortRows({ plan, cohorts: { ...exampleDetail.cohorts, baseline } });
    expect(rows.at(-1)).toEqual({ metric: 'Shadow disagreement', candidate: '-', baseline: '1.5% of 800' });
  });
});

describe('baselineSource', () => {
  it('says whose numbers the baseline is', () => {
    expect(baselineSource(exampleDetail)).toBe('the devices of the fleet group on v3');
    expect(baselineSource({ ...exampleDetail, cohorts: { ...exampleDetail.cohorts, baselineFrom: 'same-devices' } })).toBe('the same devices while they ran v3');
  });
});
