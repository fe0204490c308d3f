import { DomainError } from '@loupe/service';
import { isTopicSegment } from '@loupe/topics';
import { z } from 'zod';

/** `site/device`, the way people name one box. */
const deviceKey = z
  .string()
  .refine((key) => {
    const [site, device, ...rest] = key.split('/');
    return rest.length === 0 && site !== undefined && device !== undefined && isTopicSegment(site) && isTopicSegment(device);
  }, 'must be "site/device", each part letters, digits, . _ - (for example "plant-a/line-3")');

export const rolloutGatesSchema = z
  .object({
    /** Inspections each cohort needs before a gate may judge; less is missing data. */
    minInspections: z.number().int().min(1).default(200),
    /** How long after the bake to wait for enough data before pausing. */
    dataTimeoutSeconds: z.number().int().min(0).default(600),
    /** Error rate (errors per inspection) the candidate may add to the baseline's. */
    maxErrorRateIncrease: z.number().min(0).max(1).default(0.01),
    /** Candidate p99 latency over the baseline's. */
    maxP99Ratio: z.number().min(1).default(1.5),
    /** Total variation distance between the two confidence histograms, 0 (same) to 1 (disjoint). */
    maxConfidenceShift: z.number().min(0).max(1).default(0.2),
    /** Reject rate the candidate may add to the baseline's. */
    maxRejectRateIncrease: z.number().min(0).max(1).default(0.05),
    /** Candidate uncertain-sample rate over the baseline's. */
    maxUncertainRateRatio: z.number().min(1).default(1.5),
    /** Run the candidate in shadow on devices still on the old version, and gate on disagreement. */
    shadow: z.boolean().default(false),
    maxShadowDisagreement: z.number().min(0).max(1).default(0.05),
  })
  .strict();
export type RolloutGates = z.output<typeof rolloutGatesSchema>;

const stageSchema = z
  .object({
    name: z.string().min(1).max(64),
    /** Named canary devices, taken in this stage whatever the percentages say. */
    devices: z.array(deviceKey).max(1_000).default([]),
    /** Share of the fleet group that runs the new version once this stage is done, counted with earlier stages. */
    percent: z.number().gt(0).max(100).optional(),
    /** How long the stage's devices run the new version before the gates judge it. */
    bakeSeconds: z.number().int().min(0).default(600),
  })
  .strict()
  .refine((stage) => stage.devices.length > 0 || stage.percent !== undefined, {
    message: 'a stage names devices, a percent of the fleet group, or both',
  });

export const rolloutPlanSchema = z
  .object({
    stages: z.array(stageSchema).min(1).max(20),
    /** Devices that may be updating at once. */
    maxUpdating: z.number().int().min(1).max(10_000).default(50),
    /** A device that has not reported the new version by then is missing data: the rollout pauses. */
    updateTimeoutSeconds: z.number().int().min(1).default(900),
    gates: rolloutGatesSchema.prefault({}),
  })
  .strict()
  .superRefine((plan, context) => {
    let previous = 0;
    plan.stages.forEach((stage, index) => {
      if (stage.percent === undefined) return;
      if (stage.percent < previous) {
        context.addIssue({ code: 'custom', path: ['stages', index, 'percent'], message: `must not be below an earlier stage's ${previous}%` });
      }
      previous = stage.percent;
    });
    if (plan.stages.at(-1)?.percent !== 100) {
      context.addIssue({ code: 'custom', path: ['stages', plan.stages.length - 1, 'percent'], message: 'the last stage must take 100% of the fleet group' });
    }
  });
export type RolloutPlan = z.output<typeof rolloutPlanSchema>;
export type RolloutPlanInput = z.input<typeof rolloutPlanSchema>;

/** A rollout plan that cannot be started, with every reason. */
export class InvalidRolloutPlanError extends DomainError {
  readonly kind = 'invalid';
  constructor(readonly issues: string[]) {
    super(`invalid rollout plan: ${issues.join('; ')}`);
  }
}

export function parseRolloutPlan(input: unknown): RolloutPlan {
  const parsed = rolloutPlanSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  throw new InvalidRolloutPlanError(parsed.error.issues.map((issue) => `${issue.path.join('.') || 'plan'}: ${issue.message}`));
}
