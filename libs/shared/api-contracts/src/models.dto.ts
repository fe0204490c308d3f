import { z } from 'zod';
import { modelLineageSchema } from './model-lineage.dto';
import { printableText, storableText } from './text-fields';
import { versionNumberSchema, versionNumberTextSchema } from './version-number';

export const MODEL_ALIAS_NAMES = ['candidate', 'staging', 'production', 'archived'] as const;

export { versionNumberSchema, versionNumberTextSchema } from './version-number';

function jsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** `POST /api/models` query: what the pusher says about the model beyond its package (the body is the package tar). */
export const pushModelQuerySchema = z.object({
  notes: storableText('notes', 10_000).optional(),
  /** The dataset export the model was trained on: a file name or URL. */
  datasetExport: storableText('datasetExport', 2_000).optional(),
  parentVersion: versionNumberTextSchema.optional(),
  /** JSON object of metric name to number, e.g. {"accuracy":0.97}. */
  metrics: z
    .string()
    .optional()
    .transform((text, context) => {
      if (text === undefined) return undefined;
      const parsed = z.record(printableText('a metric name', 100).min(1), z.number()).safeParse(jsonOrUndefined(text));
      if (parsed.success) return parsed.data;
      context.addIssue({ code: 'custom', message: 'metrics must be a JSON object of numbers under printable names of at most 100 characters, e.g. {"accuracy":0.97}' });
      return z.NEVER;
    }),
});

export const modelVersionSchema = z.object({
  modelName: z.string(),
  version: z.number().int(),
  task: z.string(),
  packageSha256: z.string(),
  packageBytes: z.number().int(),
  /** The package manifest as the registry signed it: every file's SHA-256 and the signature. */
  manifest: z.unknown(),
  /** What validation on upload found: provider, golden samples checked, time taken. */
  validation: z.object({ provider: z.string(), goldenSamples: z.number().int(), checkMs: z.number() }),
  metrics: z.record(z.string(), z.number()),
  datasetExport: z.string().nullable(),
  parentVersion: z.number().int().nullable(),
  notes: z.string(),
  author: z.string(),
  createdAt: z.iso.datetime(),
  aliases: z.array(z.enum(MODEL_ALIAS_NAMES)),
  /** How Loupe's own trainer made it; null for a model pushed from elsewhere, absent from a cloud older than training runs. */
  lineage: modelLineageSchema.nullable().optional(),
});
export type ModelVersionDto = z.infer<typeof modelVersionSchema>;

export const modelListResponseSchema = z.object({
  models: z.array(
    z.object({
      modelName: z.string(),
      /** The labeling project that takes this model's samples, if one does. */
      project: z.string().nullable(),
      task: z.string(),
      latestVersion: z.number().int(),
      aliases: z.partialRecord(z.enum(MODEL_ALIAS_NAMES), z.number().int()),
    }),
  ),
});
export type ModelListResponse = z.infer<typeof modelListResponseSchema>;

/** `POST /api/models/:name/aliases/:alias` */
export const promoteRequestSchema = z.object({
  version: versionNumberSchema,
  /** Kept in the audit trail. */
  reason: storableText('reason', 2_000).min(3, 'say why, for the audit trail'),
});
export const promoteResponseSchema = z.object({ alias: z.enum(MODEL_ALIAS_NAMES), version: z.number().int(), fromVersion: z.number().int().nullable() });

export const aliasHistoryResponseSchema = z.object({
  moves: z.array(
    z.object({ alias: z.string(), fromVersion: z.number().int().nullable(), toVersion: z.number().int(), actor: z.string(), reason: z.string(), movedAt: z.iso.datetime() }),
  ),
});

/** `GET /api/registry/keys`: the public keys devices verify model packages with. */
export const registryKeysResponseSchema = z.object({ keys: z.array(z.object({ keyId: z.string(), publicKeyPem: z.string() })) });
