import { z } from 'zod';
import { PackageRefusedError } from './package-refused.error';

/** The file at the root of every package that lists and pins the rest. */
export const PACKAGE_FILE = 'loupe-package.json';
/** The model manifest (libs/shared/inference) every package carries at its root. */
export const MODEL_MANIFEST_FILE = 'manifest.json';
export const PACKAGE_FORMAT = 'loupe-model-package/1';

/**
 * A path inside a package: relative, `/`-separated, no `.` or `..`
 * segments, and only characters that mean the same on every filesystem, so
 * no entry can name a file outside the package.
 */
export const packagePathSchema = z
  .string()
  .max(255)
  .regex(/^[A-Za-z0-9_-][A-Za-z0-9._-]*(\/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$/, 'a relative path of letters, digits, ".", "_", "-" and "/"')
  .refine((path) => !path.split('/').some((segment) => segment === '.' || segment === '..'), 'no "." or ".." segments');

export const packageFileSchema = z.object({
  path: packagePathSchema,
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex SHA-256'),
  bytes: z.number().int().min(0),
});
export type PackageFile = z.infer<typeof packageFileSchema>;

export const packageSignatureSchema = z.object({
  algorithm: z.literal('ed25519'),
  /** Which key signed: the first 16 hex digits of the SHA-256 of its public key (SPKI DER). */
  keyId: z.string().regex(/^[0-9a-f]{16}$/, 'a key id of 16 hex digits'),
  /** Base64 of the signature over the canonical JSON of everything else in this file. */
  value: z.string().regex(/^[A-Za-z0-9+/]+={0,2}$/, 'base64'),
});
export type PackageSignature = z.infer<typeof packageSignatureSchema>;

export const packageManifestSchema = z
  .object({
    format: z.literal(PACKAGE_FORMAT),
    model: z.object({ name: z.string().min(1), version: z.string().min(1), task: z.string().min(1) }).strict(),
    /** Every file of the package but this one, sorted by path. */
    files: z.array(packageFileSchema).min(2),
    signature: packageSignatureSchema.optional(),
  })
  .strict();
export type PackageManifest = z.infer<typeof packageManifestSchema>;

export function parsePackageManifest(json: unknown): PackageManifest {
  const parsed = packageManifestSchema.safeParse(json);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
  throw new PackageRefusedError('invalid-package-manifest', `${PACKAGE_FILE} is not valid: ${problems.join('; ')}`);
}

/**
 * The bytes a signature covers: the package manifest without its signature,
 * as JSON with keys sorted and no whitespace, so any two writers of the same
 * manifest sign the same bytes.
 */
export function signedBytes(manifest: PackageManifest): Buffer {
  const { signature: _, ...signed } = manifest;
  return Buffer.from(canonicalJson(signed), 'utf8');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, entry]) => entry !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, entry]) => `${JSON.stringify(key)}:${canonicalJson(entry)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
