import { z } from 'zod';
import { versionNumberSchema } from './models.dto';

export const ROLLOUT_STATE_NAMES = ['running', 'paused', 'rolling_back', 'aborting', 'succeeded', 'rolled_back', 'aborted'] as const;
export const ROLLOUT_DEVICE_STATE_NAMES = ['pending', 'updating', 'active', 'failed', 'reverting', 'reverted', 'skipped'] as const;

/** `POST /api/rollouts`: the plan is checked by the cloud, which names every field to fix. */
export const startRolloutRequestSchema = z.object({
  model: z.string().min(1),
  version: versionNumberSchema,
  fleetGroup: z.string().min(1).max(64).default('default'),
  /** Defaults to the version most of the group runs. */
  fromVersion: versionNumberSchema.optional(),
  plan: z.unknown(),
});
export type StartRolloutRequest = z.input<typeof startRolloutRequestSchema>;

export const rolloutCommandRequestSchema = z.object({
  /** Kept in the audit log. */
  reason: z.string().max(2_000).default(''),
});

const stageSchema = z.object({
  name: z.string(),
  devices: z.array(z.string()),
  percent: z.number().optional(),
  bakeSeconds: z.number(),
});

export const rolloutSchema = z.object({
  id: z.string(),
  modelName: z.string(),
  fromVersion: z.number(),
  toVersion: z.number(),
  fleetGroup: z.string(),
  plan: z.object({
    stages: z.array(stageSchema),
    maxUpdating: z.number(),
    updateTimeoutSeconds: z.number(),
    gates: z.record(z.string(), z.union([z.number(), z.boolean()])),
  }),
  state: z.enum(ROLLOUT_STATE_NAMES),
  stage: z.number(),
  bakeStartedAt: z.string().nullable(),
  reason: z.string(),
  createdBy: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type RolloutDto = z.infer<typeof rolloutSchema>;

export const rolloutListResponseSchema = z.object({ rollouts: z.array(rolloutSchema) });

export const cohortStatsSchema = z.object({
  devices: z.number(),
  inspections: z.number(),
  errors: z.number(),
  rejects: z.number(),
  uncertain: z.number(),
  confidenceHistogram: z.array(z.number()),
  p99Ms: z.number(),
  shadowCompared: z.number(),
  shadowDisagreed: z.number(),
});
export type CohortStatsDto = z.infer<typeof cohortStatsSchema>;

/**
 * The mean top score of a confidence histogram, from its bins' midpoints:
 * how the gates, the CLI and the UI all sum a histogram up; null when it is
 * empty.
 */
export function meanConfidence(histogram: readonly number[]): number | null {
  const total = histogram.reduce((sum, n) => sum + n, 0);
  if (total === 0) return null;
  return histogram.reduce((sum, n, bin) => sum + n * ((bin + 0.5) / histogram.length), 0) / total;
}

const gateCheckSchema = z.object({
  gate: z.string(),
  candidate: z.number(),
  baseline: z.number(),
  measured: z.number(),
  limit: z.number(),
  passed: z.boolean(),
});

export const rolloutDetailSchema = rolloutSchema.extend({
  devices: z.array(
    z.object({ siteId: z.string(), deviceId: z.string(), stage: z.number(), state: z.enum(ROLLOUT_DEVICE_STATE_NAMES), detail: z.string(), updatedAt: z.string() }),
  ),
  cohorts: z.object({ candidate: cohortStatsSchema, baseline: cohortStatsSchema, baselineFrom: z.enum(['same-devices', 'fleet-group']) }),
  /** The gates judged on the data as it stands now. */
  gates: z.union([
    z.object({ verdict: z.literal('pass'), checks: z.array(gateCheckSchema) }),
    z.object({ verdict: z.literal('fail'), checks: z.array(gateCheckSchema), failed: z.array(z.string()) }),
    z.object({ verdict: z.literal('no-data'), missing: z.array(z.string()) }),
  ]),
  events: z.array(z.object({ at: z.string(), actor: z.string(), action: z.string(), detail: z.record(z.string(), z.unknown()) })),
});
export type RolloutDetailDto = z.infer<typeof rolloutDetailSchema>;

