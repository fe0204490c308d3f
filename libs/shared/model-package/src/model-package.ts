import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, posix, relative, sep } from 'node:path';
import { type PackagedModel, parsePackagedModel } from '@loupe/inference';
import { externalDataLocations } from './onnx-external-data';
import {
  MODEL_MANIFEST_FILE,
  PACKAGE_FILE,
  PACKAGE_FORMAT,
  packagePathSchema,
  parsePackageManifest,
  type PackageFile,
  type PackageManifest,
} from './package-manifest';
import { PackageRefusedError } from './package-refused.error';
import type { TrustedKeys } from './signing-keys';

/** A package whose files all match its signed manifest: safe to hand to onnxruntime. */
export interface VerifiedPackage {
  directory: string;
  manifest: PackageManifest;
  /** A model the agent serves, or a backbone (task `features`) to train on. */
  model: PackagedModel;
  /** The ONNX file, inside `directory`. */
  modelPath: string;
}

/**
 * The package manifest (unsigned) for a model directory: its
 * `manifest.json`, the ONNX file it names and its golden sample images,
 * each with its SHA-256. Refuses paths that leave the directory and files
 * that are not plain files, as a verifier would.
 */
export async function describePackage(directory: string): Promise<PackageManifest> {
  const model = await readModelManifestIn(directory);
  const paths = [...new Set([MODEL_MANIFEST_FILE, model.modelFile, ...model.goldenSamples.map((sample) => sample.image)])].sort();
  const files: PackageFile[] = [];
  for (const path of paths) {
    checkPackagePath(path);
    await requirePlainFile(directory, path);
    files.push({ path, ...(await fileDigest(join(directory, path))) });
  }
  await checkExternalData(directory, model.modelFile, new Set(paths));
  return { format: PACKAGE_FORMAT, model: { name: model.name, version: model.version, task: model.task }, files };
}

export async function writePackageManifest(directory: string, manifest: PackageManifest): Promise<void> {
  await writeFile(join(directory, PACKAGE_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
}

export async function readPackageManifest(directory: string): Promise<PackageManifest> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(join(directory, PACKAGE_FILE), 'utf8'));
  } catch (error) {
    throw new PackageRefusedError('invalid-package-manifest', `${PACKAGE_FILE} is missing or not JSON: ${(error as Error).message}`);
  }
  return parsePackageManifest(json);
}

/**
 * Checks an unpacked package before anything in it is used: a signature by
 * a trusted key over its manifest, then every file present, plain, and
 * matching its size and SHA-256, no file the manifest does not list, a model
 * manifest that agrees with the package, and no ONNX external data outside
 * the package's files.
 */
export async function verifyPackage(directory: string, trusted: TrustedKeys): Promise<VerifiedPackage> {
  const manifest = await readPackageManifest(directory);
  trusted.checkSignature(manifest);
  const listed = new Map(manifest.files.map((file) => [file.path, file]));
  if (listed.size !== manifest.files.length) throw new PackageRefusedError('invalid-package-manifest', `${PACKAGE_FILE} lists a file twice`);
  for (const present of await filesUnder(directory)) {
    if (present !== PACKAGE_FILE && !listed.has(present)) {
      throw new PackageRefusedError('unlisted-file', `${present} is in the package but not in ${PACKAGE_FILE}, so its signature does not cover it`);
    }
  }
  for (const file of manifest.files) {
    await requirePlainFile(directory, file.path);
    const actual = await fileDigest(join(directory, file.path));
    if (actual.bytes !== file.bytes || actual.sha256 !== file.sha256) {
      throw new PackageRefusedError(
        'hash-mismatch',
        `${file.path} does not match the signed manifest (${actual.bytes} bytes, sha256 ${actual.sha256}; signed: ${file.bytes} bytes, sha256 ${file.sha256})`,
      );
    }
  }
  if (!listed.has(MODEL_MANIFEST_FILE)) throw new PackageRefusedError('manifest-mismatch', `the package has no ${MODEL_MANIFEST_FILE}`);
  const model = await readModelManifestIn(directory);
  const { name, version, task } = manifest.model;
  if (model.name !== name || model.version !== version || model.task !== task) {
    throw new PackageRefusedError(
      'manifest-mismatch',
      `${MODEL_MANIFEST_FILE} describes ${model.name} ${model.version} (${model.task}), the package ${name} ${version} (${task})`,
    );
  }
  for (const needed of [model.modelFile, ...model.goldenSamples.map((sample) => sample.image)]) {
    if (!listed.has(needed)) throw new PackageRefusedError('manifest-mismatch', `${MODEL_MANIFEST_FILE} names ${needed}, which the package does not hold`);
  }
  await checkExternalData(directory, model.modelFile, new Set(listed.keys()));
  return { directory, manifest, model, modelPath: join(directory, model.modelFile) };
}

async function readModelManifestIn(directory: string): Promise<PackagedModel> {
  const file = join(directory, MODEL_MANIFEST_FILE);
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new PackageRefusedError('manifest-mismatch', `${MODEL_MANIFEST_FILE} is missing or not JSON: ${(error as Error).message}`);
  }
  try {
    return parsePackagedModel(json, file);
  } catch (error) {
    throw new PackageRefusedError('manifest-mismatch', (error as Error).message);
  }
}

function checkPackagePath(path: string): void {
  const parsed = packagePathSchema.safeParse(path);
  if (!parsed.success) throw new PackageRefusedError('unsafe-entry', `${JSON.stringify(path)} cannot be a path in a package: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
}

/** A regular file, reached without following a symlink on the way. */
async function requirePlainFile(directory: string, path: string): Promise<void> {
  const segments = path.split('/');
  for (let depth = 1; depth <= segments.length; depth++) {
    const partial = join(directory, ...segments.slice(0, depth));
    const stats = await lstat(partial).catch(() => undefined);
    if (!stats) throw new PackageRefusedError('missing-file', `${path} is missing from the package`);
    const last = depth === segments.length;
    // lstat does not follow links: a symlink is neither a file nor a directory here.
    if (last ? !stats.isFile() : !stats.isDirectory()) {
      throw new PackageRefusedError('unsafe-entry', `${segments.slice(0, depth).join('/')} is not a plain ${last ? 'file' : 'directory'}`);
    }
  }
}

/** Every non-directory entry under the directory, as package paths. */
async function filesUnder(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => !entry.isDirectory()).map((entry) => relative(directory, join(entry.parentPath, entry.name)).split(sep).join(posix.sep));
}

/** The SHA-256 (lowercase hex) and size of a file, read as a stream. */
export async function fileDigest(file: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(file)) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

/** External data is allowed only in files of the package, named by package paths relative to the model. */
async function checkExternalData(directory: string, modelFile: string, packageFiles: Set<string>): Promise<void> {
  let locations: string[];
  try {
    locations = externalDataLocations(await readFile(join(directory, modelFile)));
  } catch (error) {
    throw new PackageRefusedError('manifest-mismatch', `${modelFile} is not a readable ONNX model: ${(error as Error).message}`);
  }
  const modelDirectory = posix.dirname(modelFile);
  for (const location of locations) {
    const path = posix.normalize(posix.join(modelDirectory, location));
    if (location.startsWith('/') || location.includes('\\') || path.startsWith('../') || !packageFiles.has(path)) {
      throw new PackageRefusedError('external-data', `${modelFile} keeps tensor data in ${JSON.stringify(location)}, which is not a file of the package`);
    }
  }
}
