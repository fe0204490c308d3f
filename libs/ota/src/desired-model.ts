import { z } from 'zod';

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be a lowercase hex SHA-256 (64 digits)');

/**
 * One model build: the hash pins the exact ONNX bytes. Name and version
 * become folder names on a box, so they hold no path separators and do not
 * start with a dot.
 */
export const modelVersionSchema = z.object({
  name: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'must be a model name: 1-64 lowercase letters, digits, ".", "_" or "-"'),
  version: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/, 'must be a version: 1-64 letters, digits, ".", "_", "+" or "-", starting with a letter or digit'),
  sha256: sha256Hex,
});
export type ModelVersion = z.infer<typeof modelVersionSchema>;

const httpUrl = z.string().refine((value) => URL.canParse(value) && ['http:', 'https:'].includes(new URL(value).protocol), 'must be an http:// or https:// URL');

/**
 * A decoded DesiredState (proto/loupe/v1/state.proto, as ts-proto gives it)
 * checked field by field: the proto types say what a field holds, not
 * whether a box can act on it. The shadow fields come all together or not
 * at all: a shadow model without its package (or the reverse) is refused.
 */
export const desiredStateSchema = z
  .object({
    generation: z.number().int().min(0, 'must be 0 or more'),
    model: z.object(modelVersionSchema.shape, { error: 'is required: the model this device should serve' }),
    packageUrl: httpUrl,
    packageSize: z.number().int().positive('must be the package size in bytes'),
    packageSha256: sha256Hex,
    signature: z.instanceof(Uint8Array),
    signingKeyId: z.string().regex(/^([0-9a-f]{16})?$/, 'must be empty or a key id of 16 hex digits'),
    rolloutId: z.string(),
    shadowModel: z.object(modelVersionSchema.shape).optional(),
    shadowPackageUrl: z.string(),
    shadowPackageSize: z.number().int().min(0),
    shadowPackageSha256: z.string(),
  })
  .superRefine((desired, context) => {
    if (!hasShadow(desired)) return;
    const shadow = shadowSchema.safeParse(desired);
    for (const issue of shadow.success ? [] : shadow.error.issues) context.addIssue({ code: 'custom', path: issue.path, message: issue.message });
    if (sameModel(desired.shadowModel, desired.model)) context.addIssue({ code: 'custom', path: ['shadowModel'], message: 'must differ from model: a model cannot shadow itself' });
  })
  .refine((desired) => (desired.signature.length === 0) === (desired.signingKeyId === ''), {
    message: 'signature and signingKeyId come together: set both or neither',
    path: ['signingKeyId'],
  })
  .transform(
    (desired): DesiredModel => ({
      generation: desired.generation,
      model: desired.model,
      package: { url: desired.packageUrl, size: desired.packageSize, sha256: desired.packageSha256 },
      ...(desired.signature.length === 0 ? {} : { signature: { keyId: desired.signingKeyId, value: Buffer.from(desired.signature).toString('base64') } }),
      rolloutId: desired.rolloutId,
      ...(desired.shadowModel
        ? { shadow: { model: desired.shadowModel, package: { url: desired.shadowPackageUrl, size: desired.shadowPackageSize, sha256: desired.shadowPackageSha256 } } }
        : {}),
    }),
  );

/** When any shadow field is set, every one must be. */
const shadowSchema = z.object({
  shadowModel: z.object(modelVersionSchema.shape, { error: 'is required with the other shadow fields: the candidate to run in shadow' }),
  shadowPackageUrl: httpUrl,
  shadowPackageSize: z.number().int().positive('must be the shadow package size in bytes'),
  shadowPackageSha256: sha256Hex,
});

/** proto3 leaves unset fields at their defaults, so "no shadow" is every shadow field at its default. */
function hasShadow(desired: { shadowModel?: unknown; shadowPackageUrl: string; shadowPackageSize: number; shadowPackageSha256: string }): boolean {
  return desired.shadowModel !== undefined || desired.shadowPackageUrl !== '' || desired.shadowPackageSize !== 0 || desired.shadowPackageSha256 !== '';
}

/** A candidate to run beside the active model on the same images; it never serves. */
export interface ShadowModel {
  model: ModelVersion;
  package: { url: string; size: number; sha256: string };
}

/** What a box is asked to serve, with everything it needs to fetch and check it. */
export interface DesiredModel {
  generation: number;
  model: ModelVersion;
  package: { url: string; size: number; sha256: string };
  /** The package manifest's signature as the cloud knows it (base64 value); absent when the message carries none. */
  signature?: { keyId: string; value: string };
  /** Empty when no rollout drives this change. */
  rolloutId: string;
  /** Present while a rollout compares a candidate with the model this box serves. */
  shadow?: ShadowModel;
}

/** A desired state the box cannot act on; `issues` name each bad field. */
export class InvalidDesiredStateError extends Error {
  constructor(readonly issues: string[]) {
    super(`desired state is invalid: ${issues.join('; ')}`);
    this.name = 'InvalidDesiredStateError';
  }
}

/** Checks a decoded DesiredState; throws InvalidDesiredStateError naming every bad field. */
export function parseDesiredState(decoded: unknown): DesiredModel {
  const result = desiredStateSchema.safeParse(decoded);
  if (result.success) return result.data;
  throw new InvalidDesiredStateError(result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'} ${issue.message}`));
}

export function sameModel(a: ModelVersion | undefined, b: ModelVersion | undefined): boolean {
  return a !== undefined && b !== undefined && a.name === b.name && a.version === b.version && a.sha256 === b.sha256;
}

/** `pcb-aoi 2 (sha256 3f9c0e51a2b4)`, for logs and reports. */
export function describeModel(model: ModelVersion): string {
  return `${model.name} ${model.version} (sha256 ${model.sha256.slice(0, 12)})`;
}
