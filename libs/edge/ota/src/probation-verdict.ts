/** How a model on probation has behaved since it became active. */
export interface ProbationStats {
  inspections: number;
  /** Inspections the model failed to answer. */
  errors: number;
  p99Ms: number;
  /** Times the agent process died while this model was on probation. */
  crashes: number;
}

/** What a new model may not exceed while on probation. */
export interface ProbationBudget {
  /** This many crashes roll the model back. */
  maxCrashes: number;
  /** Share of inspections, 0..1, that may fail. */
  maxErrorRate: number;
  maxP99Ms: number;
  /** Error rate and latency are judged only from this many inspections on, so one slow first request is not a verdict. */
  minInspections: number;
}

export type ProbationRollbackReason = 'crashes' | 'error-rate' | 'latency';

export type ProbationVerdict = { verdict: 'keep' } | { verdict: 'roll-back'; reason: ProbationRollbackReason; detail: string };

/**
 * Whether a model on probation may stay. Crashes count at once (a model
 * that kills the agent gives no statistics); errors and latency once there
 * are enough inspections to tell.
 */
export function probationVerdict(stats: ProbationStats, budget: ProbationBudget): ProbationVerdict {
  if (stats.crashes >= budget.maxCrashes) {
    return { verdict: 'roll-back', reason: 'crashes', detail: `the agent crashed ${stats.crashes} times on probation (limit ${budget.maxCrashes})` };
  }
  if (stats.inspections < Math.max(1, budget.minInspections)) return { verdict: 'keep' };
  const errorRate = stats.errors / stats.inspections;
  if (errorRate > budget.maxErrorRate) {
    return {
      verdict: 'roll-back',
      reason: 'error-rate',
      detail: `${stats.errors} of ${stats.inspections} inspections failed (${percent(errorRate)}, limit ${percent(budget.maxErrorRate)})`,
    };
  }
  if (stats.p99Ms > budget.maxP99Ms) {
    return { verdict: 'roll-back', reason: 'latency', detail: `p99 latency ${stats.p99Ms.toFixed(1)} ms is over the ${budget.maxP99Ms} ms budget` };
  }
  return { verdict: 'keep' };
}

function percent(fraction: number): string {
  return `${(fraction * 100).toFixed(1)}%`;
}
