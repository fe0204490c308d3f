import { z } from 'zod';
import { PROMOTION_DECISION_NAMES } from './training.dto';

export type PromotionDecision = (typeof PROMOTION_DECISION_NAMES)[number];

/** One entry of a candidate's audit log: the decision, who took it, why, and the numbers it was taken on. */
export const promotionEventSchema = z.object({
  at: z.string(),
  /** A user's email, or `policy` for what the project's policy decided. */
  actor: z.string(),
  decision: z.enum(PROMOTION_DECISION_NAMES),
  reason: z.string(),
  detail: z.record(z.string(), z.unknown()),
});

/** What became of a training run's candidate: the answer of `/approve` and `/reject`. */
export const promotionSchema = z.object({
  runId: z.string(),
  modelName: z.string(),
  version: z.number().int(),
  decision: z.enum(PROMOTION_DECISION_NAMES),
  rolloutId: z.string().nullable(),
  events: z.array(promotionEventSchema),
});
export type PromotionDto = z.infer<typeof promotionSchema>;
