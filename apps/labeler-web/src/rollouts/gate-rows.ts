import type { RolloutDetailDto } from '@loupe/api-contracts';
import { milliseconds, percent, percentagePoints, times } from './rollout-numbers';

/** One gate: both cohorts' values, what was measured from them, the plan's limit and the result. */
export interface GateRow {
  gate: string;
  label: string;
  candidate: string;
  baseline: string;
  measured: string;
  limit: string;
  result: 'pass' | 'fail' | 'no data';
}

interface GateFormat {
  label: string;
  /** The plan's key for this gate's limit (apps/cloud/src/rollouts/rollout-plan.ts). */
  limitKey: string;
  /** How the cohorts' values read. */
  value: (value: number) => string;
  /** How the measured value and the limit read: a difference, a ratio or a distance. */
  measure: (value: number) => string;
}

const rateValue = (value: number) => percent(value);
const distance = (value: number) => value.toFixed(3);

// In the order the cloud judges them (apps/cloud/src/rollouts/cohort-gates.ts).
const GATES: Record<string, GateFormat> = {
  errors: { label: 'Error rate', limitKey: 'maxErrorRateIncrease', value: rateValue, measure: percentagePoints },
  'p99-latency': { label: 'p99 latency', limitKey: 'maxP99Ratio', value: milliseconds, measure: times },
  'confidence-shift': { label: 'Confidence shift', limitKey: 'maxConfidenceShift', value: (value) => `mean ${value.toFixed(2)}`, measure: distance },
  'reject-rate': { label: 'Reject rate', limitKey: 'maxRejectRateIncrease', value: rateValue, measure: percentagePoints },
  'uncertain-rate': { label: 'Uncertain rate', limitKey: 'maxUncertainRateRatio', value: rateValue, measure: times },
  'shadow-disagreement': { label: 'Shadow disagreement', limitKey: 'maxShadowDisagreement', value: rateValue, measure: rateValue },
};

// A gate the cloud added after this page was built still shows, in plain numbers.
const plain = (value: number) => value.toPrecision(3);
const formatOf = (gate: string): GateFormat => GATES[gate] ?? { label: gate, limitKey: gate, value: plain, measure: plain };

/**
 * The gates of the current stage as they stand now. With too little data
 * the cloud judges nothing; the rows then show the plan's limits alone.
 */
export function gateRows({ gates, plan }: Pick<RolloutDetailDto, 'gates' | 'plan'>): GateRow[] {
  if (gates.verdict === 'no-data') {
    const judged = Object.keys(GATES).filter((gate) => gate !== 'shadow-disagreement' || plan.gates.shadow === true);
    return judged.map((gate) => {
      const format = formatOf(gate);
      const limit = plan.gates[format.limitKey];
      return { gate, label: format.label, candidate: '-', baseline: '-', measured: '-', limit: typeof limit === 'number' ? format.measure(limit) : '-', result: 'no data' };
    });
  }
  return gates.checks.map((check) => {
    const format = formatOf(check.gate);
    return {
      gate: check.gate,
      label: format.label,
      candidate: format.value(check.candidate),
      // The shadow check compares the candidate with the active model on the same images: there is no separate baseline value.
      baseline: check.gate === 'shadow-disagreement' ? '-' : format.value(check.baseline),
      measured: format.measure(check.measured),
      limit: format.measure(check.limit),
      result: check.passed ? 'pass' : 'fail',
    };
  });
}

/** The verdict in one line, with what is missing when there is not enough data. */
export function gateVerdict({ gates }: Pick<RolloutDetailDto, 'gates'>): string {
  switch (gates.verdict) {
    case 'pass':
      return 'Every gate passes on the data so far.';
    case 'fail':
      return `Failing: ${gates.failed.map((gate) => formatOf(gate).label).join(', ')}.`;
    case 'no-data':
      return `Not enough data to judge: ${gates.missing.join('; ')}.`;
  }
}
