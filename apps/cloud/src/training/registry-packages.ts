import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TrustedKeys, unpackPackage, verifyPackage, type VerifiedPackage } from '@loupe/model-package';
import { Inject, Injectable } from '@nestjs/common';
import { REGISTRY_KEYS } from '../infrastructure.tokens';
import { ModelRegistry } from '../registry/model-registry';
import type { RegistryKeys } from '../registry/registry-keys';

/** A registry version unpacked in a scratch folder, until disposed. */
export interface UnpackedVersion {
  verified: VerifiedPackage;
  dispose(): Promise<void>;
}

/**
 * Registry versions unpacked for the trainer to run: the backbone it
 * extracts features with and the champion it evaluates. Each package is
 * checked against the registry's own signature, as a box checks it, so a
 * package changed in the blob store is refused here too.
 */
@Injectable()
export class RegistryPackages {
  constructor(
    @Inject(ModelRegistry) private readonly registry: Pick<ModelRegistry, 'openPackage'>,
    @Inject(REGISTRY_KEYS) private readonly keys: Pick<RegistryKeys, 'signing'>,
  ) {}

  async unpack(modelName: string, version: number): Promise<UnpackedVersion> {
    const scratch = await mkdtemp(join(tmpdir(), 'loupe-training-'));
    const dispose = () => rm(scratch, { recursive: true, force: true });
    try {
      const directory = join(scratch, 'package');
      const { stream } = await this.registry.openPackage(modelName, version);
      await unpackPackage(stream, directory);
      const verified = await verifyPackage(directory, new TrustedKeys([this.keys.signing.publicKey]));
      return { verified, dispose };
    } catch (error) {
      await dispose();
      throw error;
    }
  }
}
