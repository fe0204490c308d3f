import { Inject, Injectable } from '@nestjs/common';
import { PUBLIC_URL } from '../../infrastructure.tokens';
import { DomainError } from '@loupe/service';
import { ModelRegistry } from '../../registry/model-registry';
import type { DeployableModel } from '@loupe/device-state';

/** The model version has no signed ONNX file to name; it cannot go to devices. */
export class UndeployableVersionError extends DomainError {
  readonly kind = 'refused';
  constructor(modelName: string, version: number, why: string) {
    super(`${modelName} version ${version} cannot be sent to devices: ${why}`);
  }
}

/**
 * Turns registry versions into what a device needs to fetch and check them.
 * Devices download through the cloud's device route, which checks their
 * credentials and serves ranges, so a cut download resumes.
 */
@Injectable()
export class DesiredModels {
  constructor(
    @Inject(ModelRegistry) private readonly registry: ModelRegistry,
    @Inject(PUBLIC_URL) private readonly publicUrl: () => string,
  ) {}

  async of(modelName: string, version: number): Promise<DeployableModel> {
    const found = await this.registry.show(modelName, version);
    // A backbone passes validation by the features it yields; an agent would refuse its manifest.
    if (found.task === 'features') throw new UndeployableVersionError(modelName, version, 'it is a backbone (task features) with no classes: train a head on it and deploy that');
    const signature = found.manifest.signature;
    if (!signature) throw new UndeployableVersionError(modelName, version, 'its package is not signed by the registry');
    const onnx = found.manifest.files.filter((file) => file.path.endsWith('.onnx'));
    if (onnx.length !== 1) throw new UndeployableVersionError(modelName, version, `its package holds ${onnx.length} ONNX files, not one`);
    return {
      model: { name: modelName, version: String(version), sha256: onnx[0]!.sha256 },
      package: {
        url: new URL(`/api/fleet/packages/${encodeURIComponent(modelName)}/${version}`, this.publicUrl()).toString(),
        size: found.packageBytes,
        sha256: found.packageSha256,
      },
      signature: { keyId: signature.keyId, value: signature.value },
    };
  }
}
