import type { RolloutDetailDto } from '@loupe/api-contracts';
import { describe, expect, it } from 'vitest';
import { exampleDetail } from './example-rollout';
import { gateRows, gateVerdict } from './gate-rows';

describe('gateRows', () => {
  it("writes each gate's values, measure and limit the way that gate compares", () => {
    expect(gateRows(exampleDetail)).toEqual([
      { gate: 'errors', label: 'Error rate', candidate: '0.20%', baseline: '0.10%', measured: '+0.10 pp', limit: '+1.00 pp', result: 'pass' },
      { gate: 'p99-latency', label: 'p99 latency', candidate: '12 ms', baseline: '10 ms', measured: '×1.20', limit: '×1.50', result: 'pass' },
      { gate: 'confidence-shift', label: 'Confidence shift', candidate: 'mean 0.87', baseline: 'mean 0.85', measured: '0.040', limit: '0.200', result: 'pass' },
      { gate: 'reject-rate', label: 'Reject rate', candidate: '5.0%', baseline: '1.3%', measured: '+3.75 pp', limit: '+5.00 pp', result: 'pass' },
      { gate: 'uncertain-rate', label: 'Uncertain rate', candidate: '2.0%', baseline: '0.50%', measured: '×3.20', limit: '×1.50', result: 'fail' },
    ]);
  });

  it("shows the plan's limits when there is too little data to judge", () => {
    const rows = gateRows({ ...exampleDetail, gates: { verdict: 'no-data', missing: ['candidate cohort has 0 of 200 inspections'] } });
    expect(rows.map((row) => [row.label, row.measured, row.limit, row.result])).toEqual([
      ['Error rate', '-', '+1.00 pp', 'no data'],
      ['p99 latency', '-', '×1.50', 'no data'],
      ['Confidence shift', '-', '0.200', 'no data'],
      ['Reject rate', '-', '+5.00 pp', 'no data'],
      ['Uncertain rate', '-', '×1.50', 'no data'],
    ]);
  });

  it('includes shadow disagreement, with no baseline value, when the plan runs the candidate in shadow', () => {
    const plan = { ...exampleDetail.plan, gates: { ...exampleDetail.plan.gates, shadow: true } };
    const noData = gateRows({ plan, gates: { verdict: 'no-data', missing: [] } });
    expect(noData.at(-1)).toMatchObject({ label: 'Shadow disagreement', limit: '5.0%' });
    const check = { gate: 'shadow-disagreement', candidate: 0.08, baseline: 0, measured: 0.08, limit: 0.05, passed: false };
    const judged = gateRows({ plan, gates: { verdict: 'fail', checks: [check], failed: ['shadow-disagreement'] } });
    expect(judged).toEqual([{ gate: 'shadow-disagreement', label: 'Shadow disagreement', candidate: '8.0%', baseline: '-', measured: '8.0%', limit: '5.0%', result: 'fail' }]);
  });

  it('still shows a gate this page does not know, in plain numbers', () => {
    const check = { gate: 'crash-rate', candidate: 0.5, baseline: 0.25, measured: 2, limit: 1.5, passed: false };
    expect(gateRows({ ...exampleDetail, gates: { verdict: 'fail', checks: [check], failed: ['crash-rate'] } })).toEqual([
      { gate: 'crash-rate', label: 'crash-rate', candidate: '0.500', baseline: '0.250', measured: '2.00', limit: '1.50', result: 'fail' },
    ]);
  });
});

describe('gateVerdict', () => {
  const verdictOf = (gates: RolloutDetailDto['gates']) => gateVerdict({ gates });

  it('says which gates fail, by name', () => {
    expect(verdictOf({ verdict: 'fail', checks: [], failed: ['uncertain-rate', 'p99-latency'] })).toBe('Failing: Uncertain rate, p99 latency.');
  });

  it('says what data is missing', () => {
    expect(verdictOf({ verdict: 'no-data', missing: ['candidate cohort has 12 of 200 inspections'] })).toBe(
      'Not enough data to judge: candidate cohort has 12 of 200 inspections.',
    );
    expect(verdictOf({ verdict: 'pass', checks: [] })).toBe('Every gate passes on the data so far.');
  });
});
