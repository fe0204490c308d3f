import { z } from 'zod';

/**
 * The longest model name anywhere in Loupe. A pushed package's manifest has
 * always held names to 64 characters, so the registry never stored a longer
 * one; the wider limits elsewhere (100 in URLs, 128 in reports) admitted
 * names no box could be asked to run.
 */
export const MODEL_NAME_MAX_LENGTH = 64;

/**
 * A model's name: a folder on a box, a segment of blob keys and URLs. Lower
 * case, so two names never differ by case alone on a case-folding disk; no
 * path separators, and no leading dot.
 */
export const MODEL_NAME_PATTERN = new RegExp(`^[a-z0-9][a-z0-9._-]{0,${MODEL_NAME_MAX_LENGTH - 1}}$`);

/** The rule in words, for messages that name the field in their own way. */
export const MODEL_NAME_RULE = `1-${MODEL_NAME_MAX_LENGTH} lowercase letters, digits, ".", "_" or "-"`;

export const modelNameSchema = z.string().regex(MODEL_NAME_PATTERN, `must be a model name: ${MODEL_NAME_RULE}`);

export const sha256HexSchema = z.string().regex(/^[0-9a-f]{64}$/, 'must be a lowercase hex SHA-256 (64 digits)');

/**
 * One model build: the hash pins the exact ONNX bytes. Name and version
 * become folder names on a box, so they hold no path separators and do not
 * start with a dot.
 */
export const modelVersionSchema = z.object({
  name: modelNameSchema,
  version: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/, 'must be a version: 1-64 letters, digits, ".", "_", "+" or "-", starting with a letter or digit'),
  sha256: sha256HexSchema,
});
export type ModelVersion = z.infer<typeof modelVersionSchema>;

export function sameModel(a: ModelVersion | undefined, b: ModelVersion | undefined): boolean {
  return a !== undefined && b !== undefined && a.name === b.name && a.version === b.version && a.sha256 === b.sha256;
}

/** `pcb-aoi 2 (sha256 3f9c0e51a2b4)`, for logs and reports. */
export function describeModel(model: ModelVersion): string {
  return `${model.name} ${model.version} (sha256 ${model.sha256.slice(0, 12)})`;
}
