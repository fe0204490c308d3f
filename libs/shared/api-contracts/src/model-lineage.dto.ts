import { z } from 'zod';
import { datasetVersionSchema, evaluationSchema, TRAINING_TRIGGER_NAMES, trainingRecipeSchema } from './training.dto';

/**
 * Where a model version made by a training run came from: enough to say what
 * it learned from, how, what it scored against the version it was meant to
 * replace, and who or what asked for it. The parent version (the champion) is
 * the version's own `parentVersion`.
 */
export const modelLineageSchema = z.object({
  trainingRunId: z.string(),
  projectId: z.string(),
  /** The frozen dataset version: content hash, label count and split sizes. */
  dataset: datasetVersionSchema,
  backbone: z.object({ model: z.string(), version: z.number().int() }),
  recipe: trainingRecipeSchema,
  /** This version on the dataset's test split. */
  challenger: evaluationSchema,
  /** The version that served the project, on the same split; null when none did. */
  champion: evaluationSchema.extend({ version: z.number().int() }).nullable(),
  trigger: z.enum(TRAINING_TRIGGER_NAMES),
  /** A user's email, or `policy` for runs the project's triggers started. */
  startedBy: z.string(),
});
export type ModelLineage = z.infer<typeof modelLineageSchema>;
