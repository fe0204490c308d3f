import { z } from 'zod';
import { featureOutputSchema } from './feature-output';
import {
  checkInputResize,
  goldenSampleSchema,
  InvalidManifestError,
  inputSchema,
  isFeatureModel,
  type ModelManifest,
  nameSchema,
  parseModelManifest,
  relativeFile,
} from './model-manifest';

/**
 * The manifest of a backbone: a model with no classes of its own whose
 * `features` output a trainer puts a head on (a DINOv2 or ResNet export, or
 * the shipped SqueezeNet). The registry keeps and validates it like any
 * model; an agent never serves it.
 */
export const backboneManifestSchema = z
  .object({
    name: nameSchema,
    version: z.string().min(1).max(64),
    task: z.literal('features'),
    modelFile: relativeFile,
    input: inputSchema,
    features: featureOutputSchema,
    // Golden samples expect scores per label; a backbone has no labels to score.
    goldenSamples: z.array(goldenSampleSchema).max(0, 'a backbone has no labels for golden samples to expect').default([]),
  })
  .superRefine((manifest, context) => void checkInputResize(manifest.input, context));

export type BackboneManifest = z.output<typeof backboneManifestSchema>;

/** What a model package may carry: a model the agent serves, or a backbone to train on. */
export type PackagedModel = ModelManifest | BackboneManifest;

export function parseBackboneManifest(json: unknown, file: string): BackboneManifest {
  const result = backboneManifestSchema.safeParse(json);
  if (result.success) return result.data;
  throw new InvalidManifestError(
    file,
    result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`),
  );
}

/** A package's manifest.json: a backbone when its task is `features`, else a model to serve. */
export function parsePackagedModel(json: unknown, file: string): PackagedModel {
  return isFeatureModel(json) ? parseBackboneManifest(json, file) : parseModelManifest(json, file);
}

/** What a trainer needs of a backbone: how to feed it and which value to read. */
export type BackboneSpec = Pick<BackboneManifest, 'input' | 'features'>;

/** The preprocessing and feature output of any model that can serve as a backbone, or undefined for one that cannot. */
export function backboneOf(model: PackagedModel): BackboneSpec | undefined {
  return model.features ? { input: model.input, features: model.features } : undefined;
}
