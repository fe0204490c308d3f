import { meanConfidence } from '@loupe/api-contracts';
import { CONFIDENCE_BINS, type ModelCounters } from '@loupe/device-state';
import type { RolloutGates } from './rollout-plan';

/** Model statistics summed over the devices of one cohort. */
export interface CohortStats extends ModelCounters {
  devices: number;
  /** The worst device's p99: a gate on latency must not average a slow line away. */
  p99Ms: number;
}

export const EMPTY_COHORT: CohortStats = {
  devices: 0,
  inspections: 0,
  errors: 0,
  rejects: 0,
  uncertain: 0,
  confidenceHistogram: new Array<number>(CONFIDENCE_BINS).fill(0),
  p99Ms: 0,
  shadowCompared: 0,
  shadowDisagreed: 0,
};

export type GateName = 'errors' | 'p99-latency' | 'confidence-shift' | 'reject-rate' | 'uncertain-rate' | 'shadow-disagreement';

export interface GateCheck {
  gate: GateName;
  candidate: number;
  baseline: number;
  /** The value compared with the limit: a difference, a ratio or a distance. */
  measured: number;
  limit: number;
  passed: boolean;
}

export type GateVerdict =
  | { verdict: 'pass'; checks: GateCheck[] }
  | { verdict: 'fail'; checks: GateCheck[]; failed: GateName[] }
  | { verdict: 'no-data'; missing: string[] };

const rate = (count: number, of: number) => (of === 0 ? 0 : count / of);

/** Total variation distance: half the L1 distance of the two normalized histograms, 0 to 1. */
export function confidenceShift(a: number[], b: number[]): number {
  const totalA = a.reduce((sum, n) => sum + n, 0);
  const totalB = b.reduce((sum, n) => sum + n, 0);
  if (totalA === 0 || totalB === 0) return 0;
  let distance = 0;
  for (let bin = 0; bin < Math.max(a.length, b.length); bin++) distance += Math.abs((a[bin] ?? 0) / totalA - (b[bin] ?? 0) / totalB);
  return distance / 2;
}

const ratio = (candidate: number, baseline: number) => candidate / Math.max(baseline, Number.EPSILON);

/**
 * Compares the cohort on the new version with the cohort on the old one.
 * Too little data on either side is never a pass: the rollout waits, then
 * pauses for a person. Shadow disagreement is judged on its own, before the
 * first stage (judgeShadow).
 */
export function judgeCohorts(candidate: CohortStats, baseline: CohortStats, gates: RolloutGates): GateVerdict {
  const missing: string[] = [];
  if (candidate.inspections < gates.minInspections) missing.push(`candidate cohort has ${candidate.inspections} of ${gates.minInspections} inspections`);
  if (baseline.inspections < gates.minInspections) missing.push(`baseline cohort has ${baseline.inspections} of ${gates.minInspections} inspections`);
  if (missing.length > 0) return { verdict: 'no-data', missing };

  const errorRate = [rate(candidate.errors, candidate.inspections), rate(baseline.errors, baseline.inspections)] as const;
  const rejectRate = [rate(candidate.rejects, candidate.inspections), rate(baseline.rejects, baseline.inspections)] as const;
  const uncertainRate = [rate(candidate.uncertain, candidate.inspections), rate(baseline.uncertain, baseline.inspections)] as const;
  // Against a baseline that saw no uncertain sample, one uncertain candidate
  // would be infinitely worse; one occurrence of slack keeps small counts sane.
  const uncertainSlack = 1 / baseline.inspections;
  const checks: GateCheck[] = [
    difference('errors', errorRate, gates.maxErrorRateIncrease),
    {
      gate: 'p99-latency',
      candidate: candidate.p99Ms,
      baseline: baseline.p99Ms,
      measured: ratio(candidate.p99Ms, baseline.p99Ms),
      limit: gates.maxP99Ratio,
      passed: ratio(candidate.p99Ms, baseline.p99Ms) <= gates.maxP99Ratio,
    },
    {
      gate: 'confidence-shift',
      candidate: meanConfidence(candidate.confidenceHistogram) ?? 0,
      baseline: meanConfidence(baseline.confidenceHistogram) ?? 0,
      measured: confidenceShift(candidate.confidenceHistogram, baseline.confidenceHistogram),
      limit: gates.maxConfidenceShift,
      passed: confidenceShift(candidate.confidenceHistogram, baseline.confidenceHistogram) <= gates.maxConfidenceShift,
    },
    difference('reject-rate', rejectRate, gates.maxRejectRateIncrease),
    {
      gate: 'uncertain-rate',
      candidate: uncertainRate[0],
      baseline: uncertainRate[1],
      measured: ratio(uncertainRate[0], uncertainRate[1] + uncertainSlack),
      limit: gates.maxUncertainRateRatio,
      passed: ratio(uncertainRate[0], uncertainRate[1] + uncertainSlack) <= gates.maxUncertainRateRatio,
    },
  ];
  const failed = checks.filter((check) => !check.passed).map((check) => check.gate);
  return failed.length === 0 ? { verdict: 'pass', checks } : { verdict: 'fail', checks, failed };
}

/**
 * The shadow phase, before any box serves the candidate: how often it
 * disagreed with the active model on the same images, on the boxes that ran
 * it in shadow.
 */
export function judgeShadow(baseline: CohortStats, gates: RolloutGates): GateVerdict {
  if (baseline.shadowCompared < gates.minInspections) {
    return { verdict: 'no-data', missing: [`shadow comparisons: ${baseline.shadowCompared} of ${gates.minInspections}`] };
  }
  const disagreement = rate(baseline.shadowDisagreed, baseline.shadowCompared);
  const check: GateCheck = {
    gate: 'shadow-disagreement',
    candidate: disagreement,
    baseline: 0,
    measured: disagreement,
    limit: gates.maxShadowDisagreement,
    passed: disagreement <= gates.maxShadowDisagreement,
  };
  return check.passed ? { verdict: 'pass', checks: [check] } : { verdict: 'fail', checks: [check], failed: [check.gate] };
}

function difference(gate: GateName, [candidate, baseline]: readonly [number, number], limit: number): GateCheck {
  return { gate, candidate, baseline, measured: candidate - baseline, limit, passed: candidate - baseline <= limit };
}
