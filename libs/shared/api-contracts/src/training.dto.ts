import { z } from 'zod';
// Not from models.dto: a model version's lineage is made of this file's schemas.
import { versionNumberSchema } from './version-number';

/**
 * Training runs: a project's settled labels become a candidate model in the
 * registry. One contract for the cloud's REST API, the console's Training
 * screen and `loupe train`.
 */

export const TRAINING_RUN_STATE_NAMES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type TrainingRunState = (typeof TRAINING_RUN_STATE_NAMES)[number];

/** Where a run is: each phase reports done of total, so a progress bar can be drawn. */
export const TRAINING_PHASE_NAMES = ['dataset', 'features', 'training', 'evaluation', 'packaging'] as const;

export const TRAINING_TRIGGER_NAMES = ['manual', 'new-labels', 'schedule'] as const;

/**
 * What became of the candidate: `lost` (it did not beat the champion by the
 * project's margin; kept in the registry, never rolled out),
 * `awaiting-approval`, `approved` (an engineer started its rollout),
 * `rollout-started` (the policy started a canary at once), `rejected` (an
 * engineer declined it), `first-model` (nothing served the project yet;
 * awaits approval like any other).
 */
export const PROMOTION_DECISION_NAMES = ['lost', 'awaiting-approval', 'approved', 'rollout-started', 'rejected', 'first-model'] as const;

/** A run's hyper-parameters; every field has a default, so `{}` is a valid recipe. */
export const trainingRecipeSchema = z.object({
  /** L2 strengths tried; the one with the best validation macro-F1 wins. */
  l2Candidates: z.array(z.number().nonnegative()).min(1).max(12).default([1e-4, 1e-3, 1e-2, 1e-1]),
  /** Weight classes by inverse frequency, so a rare defect counts as much as the normal class. */
  classWeighting: z.boolean().default(true),
  maxIterations: z.number().int().min(10).max(5_000).default(300),
  /** Crops around labeled boxes are this many times the box (detection labels); whole images otherwise. */
  cropScale: z.number().min(1).max(4).default(1.1),
});
export type TrainingRecipe = z.infer<typeof trainingRecipeSchema>;

/** `POST /api/projects/:projectId/training-runs` */
export const startTrainingRunRequestSchema = z.object({
  /** A registry model whose manifest names a feature output; the shipped default backbone when absent. */
  backbone: z.object({ model: z.string().min(1), version: versionNumberSchema }).optional(),
  recipe: trainingRecipeSchema.prefault({}),
});
export type StartTrainingRunRequest = z.input<typeof startTrainingRunRequestSchema>;

export const classMetricsSchema = z.object({
  className: z.string(),
  precision: z.number(),
  recall: z.number(),
  support: z.number().int(),
});

/** A model evaluated on a dataset version's test split. */
export const evaluationSchema = z.object({
  samples: z.number().int(),
  accuracy: z.number(),
  macroF1: z.number(),
  perClass: z.array(classMetricsSchema),
  /** confusion[actual][predicted], in the order of `classes`. */
  confusion: z.array(z.array(z.number().int())),
  classes: z.array(z.string()),
  /** Expected calibration error, 10 equal-width bins of the top probability. */
  calibrationError: z.number(),
});
export type EvaluationDto = z.infer<typeof evaluationSchema>;

export const datasetVersionSchema = z.object({
  /** sha256 over the sorted (sample id, label, split) triples: the same labels give the same version. */
  hash: z.string(),
  labels: z.number().int(),
  train: z.number().int(),
  val: z.number().int(),
  test: z.number().int(),
});
export type DatasetVersionDto = z.infer<typeof datasetVersionSchema>;

export const trainingRunSchema = z.object({
  id: z.string(),
  projectId: z.string(),
  modelName: z.string(),
  state: z.enum(TRAINING_RUN_STATE_NAMES),
  trigger: z.enum(TRAINING_TRIGGER_NAMES),
  /** A user's name, or `policy` for runs the project's triggers started. */
  startedBy: z.string(),
  progress: z.object({ phase: z.enum(TRAINING_PHASE_NAMES), done: z.number(), total: z.number() }).nullable(),
  backbone: z.object({ model: z.string(), version: z.number() }),
  recipe: trainingRecipeSchema,
  dataset: datasetVersionSchema.nullable(),
  /** Samples whose features were computed in this run, and those the cache already held. */
  features: z.object({ computed: z.number().int(), cached: z.number().int() }).nullable(),
  challenger: evaluationSchema.nullable(),
  /** The version serving the project when the run started, on the same test split; null when there was none. */
  champion: evaluationSchema.extend({ version: z.number() }).nullable(),
  candidateVersion: z.number().nullable(),
  decision: z.enum(PROMOTION_DECISION_NAMES).nullable(),
  rolloutId: z.string().nullable(),
  /** Why a failed run failed, in words a person can act on. */
  error: z.string().nullable(),
  attempts: z.number().int(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
});
export type TrainingRunDto = z.infer<typeof trainingRunSchema>;

export const trainingRunListResponseSchema = z.object({ runs: z.array(trainingRunSchema) });
export type TrainingRunListResponse = z.infer<typeof trainingRunListResponseSchema>;

/** `GET|PUT /api/projects/:projectId/training-policy` */
export const trainingPolicySchema = z.object({
  /** The challenger's test macro-F1 must beat the champion's by at least this. */
  margin: z.number().min(0).max(1).default(0.01),
  /** `approval` (default): an engineer approves; `auto-rollout`: a canary starts at once with the project's gates. */
  promotion: z.enum(['approval', 'auto-rollout']).default('approval'),
  /** Start a run after this many newly settled labels; null: never on count. */
  everyNewLabels: z.number().int().min(1).nullable().default(null),
  /** Start a run at most this often when labels changed; null: never on a schedule. */
  everyHours: z.number().min(0.25).max(24 * 30).nullable().default(null),
  /** The fleet group a promoted candidate rolls out to. */
  fleetGroup: z.string().min(1).max(64).default('default'),
  /**
   * The project's rollout plan (stages, bake times, gates; the shape of
   * `POST /api/rollouts`' plan, checked by the cloud): a promoted candidate's
   * canary follows it. Absent: a tenth of the group (at least one box) for
   * 10 minutes, then all of it, with the default gates.
   */
  rolloutPlan: z.record(z.string(), z.unknown()).optional(),
});
export type TrainingPolicyDto = z.infer<typeof trainingPolicySchema>;

/** `POST /api/training-runs/:id/approve` and `/reject` */
export const trainingDecisionRequestSchema = z.object({
  /** Kept in the audit log. */
  reason: z.string().max(2_000).default(''),
});
