import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { registryKeysResponseSchema } from '@loupe/api-contracts';
import { fileDigest, PackageRefusedError, TrustedKeys, unpackPackage, verifyPackage, type UnpackLimits, type VerifiedPackage } from '@loupe/model-package';
import type { DesiredModel } from '@loupe/device-state';
import type { Logger } from 'pino';
import { NO_FAULT_POINTS, type FaultPoints } from './fault-points';
import type { ModelStore } from './model-store';

/**
 * The verify step: nothing of a package is loaded before it passes. The
 * file must have the declared size and SHA-256; it is unpacked with the
 * package library's limits into a directory of its own, whose signed
 * manifest must be signed by a key the registry publishes
 * (REGISTRY_KEYS_FILE, read at every update so rotated keys need no
 * restart), match every file, and describe exactly the model the desired
 * state names, signed with the signature it names. Refusals carry the
 * package library's reason codes. The unpacking is the package library's
 * own file work; what this step removes goes through the store's files.
 */
export class PackageVerification {
  private readonly log: Logger;

  constructor(
    private readonly store: ModelStore,
    private readonly registryKeysFile: string,
    private readonly limits: UnpackLimits,
    logger: Logger,
    private readonly faults: FaultPoints = NO_FAULT_POINTS,
  ) {
    this.log = logger.child({ component: 'package-verification' });
  }

  /** Resolves with the verified package, unpacked in MODELS_DIR/unpacking. */
  async run(desired: DesiredModel): Promise<VerifiedPackage> {
    const file = this.store.packageFile(desired.package.sha256);
    const actual = await fileDigest(file);
    if (actual.bytes !== desired.package.size || actual.sha256 !== desired.package.sha256) {
      await this.store.files.remove(file);
      throw new PackageRefusedError(
        'hash-mismatch',
        `the downloaded package is ${actual.bytes} bytes with SHA-256 ${actual.sha256}; the desired state declares ${desired.package.size} bytes with ${desired.package.sha256}`,
      );
    }
    const directory = this.store.unpackDirectory(desired.package.sha256);
    await this.store.files.remove(directory);
    try {
      await unpackPackage(createReadStream(file), directory, this.limits);
      this.faults.reached('verify:unpacked');
      const verified = await verifyPackage(directory, await this.trustedKeys());
      matchDesired(verified, desired);
      this.log.info({ model: desired.model.name, version: desired.model.version, keyId: verified.manifest.signature?.keyId }, 'package verified');
      return verified;
    } catch (error) {
      await this.store.files.remove(directory);
      throw error;
    }
  }

  private async trustedKeys(): Promise<TrustedKeys> {
    const file = this.registryKeysFile;
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      throw new PackageRefusedError(
        'unknown-key',
        `no trusted registry keys: cannot read REGISTRY_KEYS_FILE ${file} (${(error as Error).message}); save the JSON of the cloud's GET /api/registry/keys there`,
      );
    }
    try {
      const { keys } = registryKeysResponseSchema.parse(JSON.parse(text));
      return new TrustedKeys(keys.map((key) => key.publicKeyPem));
    } catch (error) {
      throw new PackageRefusedError('unknown-key', `REGISTRY_KEYS_FILE ${file} is not the JSON of GET /api/registry/keys: ${(error as Error).message}`);
    }
  }
}

/** The package must be the very model and signature the cloud named, not merely some validly signed package. */
function matchDesired({ manifest, model }: VerifiedPackage, desired: DesiredModel): void {
  const wanted = desired.model;
  if (manifest.model.name !== wanted.name || manifest.model.version !== wanted.version) {
    throw new PackageRefusedError(
      'manifest-mismatch',
      `the package holds ${manifest.model.name} ${manifest.model.version}; the desired state names ${wanted.name} ${wanted.version}`,
    );
  }
  const onnx = manifest.files.find((file) => file.path === model.modelFile);
  if (onnx?.sha256 !== wanted.sha256) {
    throw new PackageRefusedError('manifest-mismatch', `the package's model file has SHA-256 ${onnx?.sha256 ?? 'none'}; the desired state names ${wanted.sha256}`);
  }
  const signature = manifest.signature;
  const sameSignature = (a: string, b: string) => Buffer.from(a, 'base64').equals(Buffer.from(b, 'base64'));
  if (desired.signature && (signature?.keyId !== desired.signature.keyId || !sameSignature(signature.value, desired.signature.value))) {
    throw new PackageRefusedError(
      'bad-signature',
      `the package is signed by key ${signature?.keyId ?? 'none'} with another signature than the desired state names (key ${desired.signature.keyId})`,
    );
  }
}
