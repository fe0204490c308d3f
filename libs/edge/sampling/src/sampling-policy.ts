import { z } from 'zod';

/**
 * Which inspections a device uploads for labeling, and how many. The cloud
 * sends a new policy at run time; unknown fields are dropped rather than
 * refused so a newer cloud can still configure an older device.
 */

const fraction = (description: string) => {
  const message = `must be a number from 0 to 1 (${description})`;
  return z.number({ error: message }).min(0, message).max(1, message);
};

const positive = (description: string) => {
  const message = `must be a number greater than 0 (${description})`;
  return z.number({ error: message }).positive(message);
};

const wholeNumber = (min: number, max: number | undefined, description: string) => {
  const message = `must be a whole number ${max === undefined ? `${min} or more` : `from ${min} to ${max}`} (${description})`;
  const atLeast = z.number({ error: message }).int(message).min(min, message);
  return max === undefined ? atLeast : atLeast.max(max, message);
};

const UNCERTAINTY_MEASURES = ['least_confidence', 'margin', 'entropy'] as const;

export const samplingPolicySchema = z.object({
  measure: z
    .enum(UNCERTAINTY_MEASURES, { error: `must be one of ${UNCERTAINTY_MEASURES.map((name) => `"${name}"`).join(', ')}` })
    .default('margin'),
  /** Compared with the selection value: the uncertainty, discounted for closeness to recent picks when diversity > 0. */
  minUncertainty: fraction('the uncertainty from which an inspection is a candidate').default(0.3),
  anomalyBand: positive('how far from the threshold a normalized anomaly score still counts as uncertain').default(0.25),
  detectionBand: positive('how far above the score threshold a box still counts as uncertain').default(0.15),
  /**
   * How much spread in feature space counts against uncertainty when the
   * model gives a feature vector: 0 is uncertainty sampling, 1 spread alone
   * (see selectionValue).
   *
   * Margin with diversity 0.3 is the default from `npm run
   * bench:active-learning` (DeepPCB crops, SqueezeNet features, 5 seeds,
   * rounds of 50, 2026-12-07): labels to 95 % of the whole pool's accuracy,
   * within boards / on unseen boards, random 704 / 969; margin + spread 0.3
   * 295 / 352 (savings 0.58 / 0.64); margin alone 340 / 352; margin with 10 %
   * random labels 355 / 374; spread 0.3 with 20 % random 340 / 403; spread
   * 0.6 with 10 % random 363 / 346; least confidence 444 / 511; entropy
   * 564 / 655; spread alone 622 / 720.
   */
  diversity: fraction('weight of feature-space spread against uncertainty').default(0.3),
  /**
   * Drawn before the model's answer is looked at, so these picks (reason
   * random_calibration) are an unbiased sample of what the station sees: the
   * cloud can evaluate a model on them without the sampler's slant.
   */
  randomShare: fraction('share of inspections picked at random').default(0.01),
  samplesPerHour: wholeNumber(0, undefined, 'selections in any 60 minutes').default(120),
  bytesPerDay: wholeNumber(0, undefined, 'image bytes selected in any 24 hours').default(500_000_000),
  /** Keeps one flooding class (the verdict) from using the whole hourly budget. */
  perClassPerHour: wholeNumber(0, undefined, 'selections of one predicted class in any 60 minutes').default(40),
  duplicateDistance: wholeNumber(0, 64, 'differing hash bits up to which a selection is a near-duplicate').default(5),
  duplicateMemory: wholeNumber(1, undefined, 'recent selections per station compared for near-duplicates and spread').default(64),
});

export type SamplingPolicy = z.output<typeof samplingPolicySchema>;
export type UncertaintyMeasure = SamplingPolicy['measure'];

export const DEFAULT_SAMPLING_POLICY: Readonly<SamplingPolicy> = Object.freeze(samplingPolicySchema.parse({}));

/** A policy that cannot be used; `issues` name each bad field. */
export class InvalidSamplingPolicyError extends Error {
  constructor(readonly issues: string[]) {
    super(`sampling policy is invalid:\n  ${issues.join('\n  ')}`);
    this.name = 'InvalidSamplingPolicyError';
  }
}

/** The policy with defaults for missing fields; throws InvalidSamplingPolicyError. */
export function parseSamplingPolicy(input: unknown): SamplingPolicy {
  const result = samplingPolicySchema.safeParse(input);
  if (result.success) return result.data;
  throw new InvalidSamplingPolicyError(result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`));
}
