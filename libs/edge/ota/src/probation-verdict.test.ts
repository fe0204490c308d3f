import { describe, expect, it } from 'vitest';
import { probationVerdict, type ProbationBudget, type ProbationStats } from './probation-verdict';

const BUDGET: ProbationBudget = { maxCrashes: 2, maxErrorRate: 0.05, maxP99Ms: 200, minInspections: 20 };
const healthy: ProbationStats = { inspections: 100, errors: 1, p99Ms: 40, crashes: 0 };

describe('probationVerdict', () => {
  it.each<[string, Partial<ProbationStats>, string | undefined]>([
    ['keeps a model within every limit', {}, undefined],
    ['keeps a model that crashed once', { crashes: 1 }, undefined],
    ['rolls back at the crash limit', { crashes: 2 }, 'crashes'],
    ['rolls back on crashes before any inspection', { crashes: 3, inspections: 0, errors: 0 }, 'crashes'],
    ['keeps an error rate at the limit', { errors: 5 }, undefined],
    ['rolls back an error rate above the limit', { errors: 6 }, 'error-rate'],
    ['rolls back a p99 over budget', { p99Ms: 201 }, 'latency'],
    ['waits for enough inspections before judging errors', { inspections: 19, errors: 19 }, undefined],
    ['waits for enough inspections before judging latency', { inspections: 19, errors: 0, p99Ms: 5_000 }, undefined],
    ['judges errors from the minimum on', { inspections: 20, errors: 2 }, 'error-rate'],
  ])('%s', (_name, overrides, reason) => {
    const verdict = probationVerdict({ ...healthy, ...overrides }, BUDGET);
    if (reason === undefined) expect(verdict).toEqual({ verdict: 'keep' });
    else expect(verdict).toMatchObject({ verdict: 'roll-back', reason });
  });

  it('says what was over which limit', () => {
    expect(probationVerdict({ ...healthy, errors: 10 }, BUDGET)).toEqual({
      verdict: 'roll-back',
      reason: 'error-rate',
      detail: '10 of 100 inspections failed (10.0%, limit 5.0%)',
    });
    expect(probationVerdict({ ...healthy, p99Ms: 250.04 }, BUDGET)).toMatchObject({ detail: 'p99 latency 250.0 ms is over the 200 ms budget' });
    expect(probationVerdict({ ...healthy, crashes: 2 }, BUDGET)).toMatchObject({ detail: 'the agent crashed 2 times on probation (limit 2)' });
  });

  it('judges a model even with no minimum set', () => {
    expect(probationVerdict({ inspections: 1, errors: 1, p99Ms: 1, crashes: 0 }, { ...BUDGET, minInspections: 0 })).toMatchObject({ reason: 'error-rate' });
  });
});
