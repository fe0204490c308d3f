import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { packedPackage, publicKeyToPem, signedPackage, type PackageManifest, type SigningKey } from '@loupe/model-package';
import { desiredStateToWire, type ModelVersion } from '@loupe/device-state';
import { DesiredState } from '@loupe/proto';
import { DEMO_MODEL_DIR } from './test-agent';

export interface TestPackage {
  bytes: Buffer;
  sha256: string;
  model: ModelVersion;
  manifest: PackageManifest;
}

/**
 * The real pcb-aoi demo model as a package of `version`, signed by
 * `signer`. Versions other than the demo's own ("1") are distinct builds:
 * their ONNX file has its own SHA-256 (see distinctBuild) and answers the
 * same. `decision` replaces the manifest's decision rule before signing, for
 * a build whose verdicts differ. `after` edits the model directory after
 * signing, as a tamperer (or a bad disk) would, and the package is packed
 * again.
 */
export async function pcbAoiPackage(
  workDir: string,
  { version, signer, decision, after }: { version: string; signer: SigningKey; decision?: object; after?: (directory: string) => Promise<void> },
): Promise<TestPackage> {
  const directory = await mkdtemp(join(workDir, 'model-'));
  for (const file of ['manifest.json', 'pcb-aoi.opset11.onnx', 'sample-images']) await cp(join(DEMO_MODEL_DIR, file), join(directory, file), { recursive: true });
  const manifestPath = join(directory, 'manifest.json');
  await writeFile(manifestPath, JSON.stringify({ ...(JSON.parse(await readFile(manifestPath, 'utf8')) as object), version, ...(decision ? { decision } : {}) }));
  if (version !== '1') await distinctBuild(join(directory, 'pcb-aoi.opset11.onnx'), `loupe test build ${version}`);
  const signed = await signedPackage(directory, signer);
  let bytes = signed.bytes;
  if (after) {
    await after(directory);
    bytes = await packedPackage(directory);
  }
  const onnx = signed.manifest.files.find((file) => file.path.endsWith('.onnx'))!;
  return {
    bytes,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    model: { name: signed.manifest.model.name, version, sha256: onnx.sha256 },
    manifest: signed.manifest,
  };
}

/**
 * Appends a `doc_string` (ModelProto field 6) to an ONNX file. Protobuf
 * takes the last occurrence of a non-repeated field, so the model is the
 * same; only its bytes, and so its SHA-256, differ.
 */
async function distinctBuild(onnxFile: string, docString: string): Promise<void> {
  const text = Buffer.from(docString, 'utf8');
  if (text.length > 127) throw new Error('a one-byte varint length keeps this simple: use a shorter doc string');
  const field = Buffer.from([(6 << 3) | 2, text.length]);
  await writeFile(onnxFile, Buffer.concat([await readFile(onnxFile), field, text]));
}

/**
 * A signed package of a model too small to run: a manifest and an ONNX file
 * holding only a doc string of about `bytes` bytes, which the package
 * library verifies like any model. For tests of OTA's file work, where
 * onnxruntime plays no part. Resolves with the directory it was packed from
 * too, whose manifest.json can serve as MODEL_MANIFEST.
 */
export async function tinyPackage(workDir: string, { version, signer, bytes = 40_000 }: { version: string; signer: SigningKey; bytes?: number }): Promise<TestPackage & { directory: string }> {
  const directory = await mkdtemp(join(workDir, 'tiny-'));
  const demo = JSON.parse(await readFile(join(DEMO_MODEL_DIR, 'manifest.json'), 'utf8')) as object;
  await writeFile(join(directory, 'manifest.json'), JSON.stringify({ ...demo, name: 'tiny', version, modelFile: 'tiny.onnx', goldenSamples: [] }));
  const docString = Buffer.alloc(bytes, `tiny model, version ${version}. `);
  await writeFile(join(directory, 'tiny.onnx'), Buffer.concat([Buffer.from([(6 << 3) | 2]), varint(docString.length), docString]));
  const signed = await signedPackage(directory, signer);
  const onnx = signed.manifest.files.find((file) => file.path === 'tiny.onnx')!;
  return {
    directory,
    bytes: signed.bytes,
    sha256: createHash('sha256').update(signed.bytes).digest('hex'),
    model: { name: 'tiny', version, sha256: onnx.sha256 },
    manifest: signed.manifest,
  };
}

function varint(value: number): Buffer {
  const bytes: number[] = [];
  for (let rest = value; ; rest = Math.floor(rest / 128)) {
    if (rest < 128) return Buffer.from([...bytes, rest]);
    bytes.push((rest % 128) | 128);
  }
}

/** Flips one byte in the middle of a file. */
export async function flipByte(file: string): Promise<void> {
  const bytes = await readFile(file);
  const middle = Math.floor(bytes.length / 2);
  bytes[middle] = bytes[middle]! ^ 0xff;
  await writeFile(file, bytes);
}

/** A DesiredState naming `pkg` at `url` (and `shadow` to run beside it), as the cloud publishes it. */
export function desiredStateOf(pkg: TestPackage, url: string, generation: number, rolloutId = '', shadow?: { pkg: TestPackage; url: string }): Buffer {
  const desired = {
    generation,
    model: pkg.model,
    package: { url, size: pkg.bytes.length, sha256: pkg.sha256 },
    signature: pkg.manifest.signature!,
    rolloutId,
    ...(shadow ? { shadow: { model: shadow.pkg.model, package: { url: shadow.url, size: shadow.pkg.bytes.length, sha256: shadow.pkg.sha256 } } } : {}),
  };
  return Buffer.from(DesiredState.encode(desiredStateToWire(desired)).finish());
}

/** Writes the registry's public keys as `GET /api/registry/keys` returns them, where REGISTRY_KEYS_FILE points. */
export async function writeRegistryKeys(file: string, keys: SigningKey[]): Promise<void> {
  await writeFile(file, JSON.stringify({ keys: keys.map((key) => ({ keyId: key.keyId, publicKeyPem: publicKeyToPem(key.publicKey) })) }));
}
