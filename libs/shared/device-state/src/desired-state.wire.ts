import { DesiredState } from '@loupe/proto';
import { z } from 'zod';
import { InvalidDesiredStateError, type DesiredModel, type PackageRef } from './desired-state';
import { modelVersionSchema, sameModel, sha256HexSchema } from './model-version';

const httpUrl = z.string().refine((value) => URL.canParse(value) && ['http:', 'https:'].includes(new URL(value).protocol), 'must be an http:// or https:// URL');

const packageSchema = z.object({
  url: httpUrl,
  size: z.number().int().positive('must be the package size in bytes'),
  sha256: sha256HexSchema,
});

const shadowSchema = z.object({
  model: z.object(modelVersionSchema.shape, { error: 'is required with the other shadow fields: the candidate to run in shadow' }),
  package: packageSchema,
});

/**
 * A decoded DesiredState (proto/loupe/v1/state.proto) checked field by
 * field: the proto types say what a field holds, not whether a box can act
 * on it. A shadow model without its package (or the reverse) is refused.
 */
const desiredStateSchema = z
  .object({
    generation: z.number().int().min(0, 'must be 0 or more'),
    model: z.object(modelVersionSchema.shape, { error: 'is required: the model this device should serve' }),
    package: packageSchema,
    signature: z.instanceof(Uint8Array),
    signingKeyId: z.string().regex(/^([0-9a-f]{16})?$/, 'must be empty or a key id of 16 hex digits'),
    rolloutId: z.string(),
    shadow: shadowSchema.optional(),
  })
  .superRefine((desired, context) => {
    if (desired.shadow && sameModel(desired.shadow.model, desired.model)) {
      context.addIssue({ code: 'custom', path: ['shadow', 'model'], message: 'must differ from model: a model cannot shadow itself' });
    }
  })
  .refine((desired) => (desired.signature.length === 0) === (desired.signingKeyId === ''), {
    message: 'signature and signingKeyId come together: set both or neither',
    path: ['signingKeyId'],
  })
  .transform(
    (desired): DesiredModel => ({
      generation: desired.generation,
      model: desired.model,
      package: desired.package,
      ...(desired.signature.length === 0 ? {} : { signature: { keyId: desired.signingKeyId, value: Buffer.from(desired.signature).toString('base64') } }),
      rolloutId: desired.rolloutId,
      ...(desired.shadow ? { shadow: desired.shadow } : {}),
    }),
  );

// Issues about the deprecated fields name those fields, so a message from
// the previous release's cloud is explained in its own terms.
const LEGACY_PATHS: Record<string, string> = {
  'package.url': 'packageUrl',
  'package.size': 'packageSize',
  'package.sha256': 'packageSha256',
  'shadow.model': 'shadowModel',
  'shadow.package.url': 'shadowPackageUrl',
  'shadow.package.size': 'shadowPackageSize',
  'shadow.package.sha256': 'shadowPackageSha256',
};

type WireDesiredState = Partial<DesiredState>;

/**
 * The package and shadow as one shape: from `package` and `shadow` when the
 * cloud sent them, else from the deprecated flat fields (a retained message
 * from the previous release). proto3 leaves unset fields at their defaults,
 * so "no shadow" there is every shadow field at its default.
 */
function normalize(decoded: WireDesiredState): { view: Record<string, unknown>; legacy: boolean } {
  const legacy = decoded.package === undefined;
  const legacyPackage = (url = '', size = 0, sha256 = ''): PackageRef => ({ url, size, sha256 });
  const legacyShadow =
    decoded.shadowModel !== undefined || !!decoded.shadowPackageUrl || !!decoded.shadowPackageSize || !!decoded.shadowPackageSha256
      ? { model: decoded.shadowModel, package: legacyPackage(decoded.shadowPackageUrl, decoded.shadowPackageSize, decoded.shadowPackageSha256) }
      : undefined;
  const view = {
    ...decoded,
    package: decoded.package ?? legacyPackage(decoded.packageUrl, decoded.packageSize, decoded.packageSha256),
    shadow: legacy ? legacyShadow : decoded.shadow,
  };
  return { view, legacy };
}

/** Checks a decoded DesiredState; throws InvalidDesiredStateError naming every bad field. */
export function parseDesiredState(decoded: unknown): DesiredModel {
  const { view, legacy } = normalize(typeof decoded === 'object' && decoded !== null ? decoded : {});
  const result = desiredStateSchema.safeParse(view);
  if (result.success) return result.data;
  throw new InvalidDesiredStateError(
    result.error.issues.map((issue) => {
      const path = issue.path.join('.');
      return `${(legacy ? legacyName(path) : path) || '(root)'} ${issue.message}`;
    }),
  );
}

/** `shadow.model.name` -> `shadowModel.name`: the path as the previous release's message spells it. */
function legacyName(path: string): string {
  const prefix = Object.keys(LEGACY_PATHS).find((candidate) => path === candidate || path.startsWith(`${candidate}.`));
  return prefix === undefined ? path : `${LEGACY_PATHS[prefix]}${path.slice(prefix.length)}`;
}

/**
 * The DesiredState message for `desired`. The deprecated flat fields carry
 * the same package and shadow for one release, because a box on the
 * previous release reads only those.
 */
export function desiredStateToWire(desired: DesiredModel): DesiredState {
  const { shadow } = desired;
  return DesiredState.fromPartial({
    generation: desired.generation,
    model: desired.model,
    package: desired.package,
    signature: desired.signature ? Buffer.from(desired.signature.value, 'base64') : Buffer.alloc(0),
    signingKeyId: desired.signature?.keyId ?? '',
    rolloutId: desired.rolloutId,
    ...(shadow ? { shadow } : {}),
    ...legacyFields(desired),
  });
}

function legacyFields({ package: pkg, shadow }: DesiredModel): Partial<DesiredState> {
  return {
    packageUrl: pkg.url,
    packageSize: pkg.size,
    packageSha256: pkg.sha256,
    ...(shadow
      ? { shadowModel: shadow.model, shadowPackageUrl: shadow.package.url, shadowPackageSize: shadow.package.size, shadowPackageSha256: shadow.package.sha256 }
      : {}),
  };
}
