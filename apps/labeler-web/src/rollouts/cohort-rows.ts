import { meanConfidence, type CohortStatsDto, type RolloutDetailDto } from '@loupe/api-contracts';
import { count, milliseconds, percent, rate } from './rollout-numbers';

/** One metric of the two cohorts, side by side. */
export interface CohortRow {
  metric: string;
  candidate: string;
  baseline: string;
}

const confidence = (stats: CohortStatsDto) => {
  const mean = meanConfidence(stats.confidenceHistogram);
  return mean === null ? '-' : mean.toFixed(2);
};

const shadow = (stats: CohortStatsDto) =>
  stats.shadowCompared === 0 ? '-' : `${percent(rate(stats.shadowDisagreed, stats.shadowCompared))} of ${count(stats.shadowCompared)}`;

// Every metric the gates judge, per cohort, in the order the gates list them.
const METRICS: { metric: string; of: (stats: CohortStatsDto) => string }[] = [
  { metric: 'Devices', of: (stats) => count(stats.devices) },
  { metric: 'Inspections', of: (stats) => count(stats.inspections) },
  { metric: 'Error rate', of: (stats) => percent(rate(stats.errors, stats.inspections)) },
  { metric: 'p99 latency', of: (stats) => (stats.inspections === 0 ? '-' : milliseconds(stats.p99Ms)) },
  { metric: 'Mean confidence', of: confidence },
  { metric: 'Reject rate', of: (stats) => percent(rate(stats.rejects, stats.inspections)) },
  { metric: 'Uncertain rate', of: (stats) => percent(rate(stats.uncertain, stats.inspections)) },
];

/** The gate metrics of both cohorts; shadow disagreement only when the plan runs the candidate in shadow. */
export function cohortRows({ cohorts, plan }: Pick<RolloutDetailDto, 'cohorts' | 'plan'>): CohortRow[] {
  const metrics = plan.gates.shadow === true ? [...METRICS, { metric: 'Shadow disagreement', of: shadow }] : METRICS;
  return metrics.map(({ metric, of }) => ({ metric, candidate: of(cohorts.candidate), baseline: of(cohorts.baseline) }));
}

/** Where the baseline's numbers come from, in words. */
export function baselineSource({ cohorts, fromVersion }: Pick<RolloutDetailDto, 'cohorts' | 'fromVersion'>): string {
  return cohorts.baselineFrom === 'same-devices'
    ? `the same devices while they ran v${fromVersion}`
    : `the devices of the fleet group on v${fromVersion}`;
}
