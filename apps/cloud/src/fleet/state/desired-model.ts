import { DesiredState } from '@loupe/proto';

/** A model version as a device needs it to update: where to fetch it and how to check it. */
export interface DesiredModel {
  name: string;
  version: string;
  /** SHA-256 of the ONNX file, as the device will report it running. */
  sha256: string;
  packageUrl: string;
  packageSize: number;
  packageSha256: string;
  /** Base64 ed25519 signature of the package manifest, and the registry key that made it. */
  signature: string;
  signingKeyId: string;
}

/** What the cloud wants one device to run; kept as JSON in device_model_states.desired. */
export interface DesiredStateRecord {
  model: DesiredModel;
  rolloutId: string;
  shadow?: DesiredModel;
}

export function desiredStateMessage(record: DesiredStateRecord, generation: number): Uint8Array {
  const { model, shadow } = record;
  return DesiredState.encode(
    DesiredState.fromPartial({
      generation,
      model: { name: model.name, version: model.version, sha256: model.sha256 },
      packageUrl: model.packageUrl,
      packageSize: model.packageSize,
      packageSha256: model.packageSha256,
      signature: Buffer.from(model.signature, 'base64'),
      signingKeyId: model.signingKeyId,
      rolloutId: record.rolloutId,
      ...(shadow
        ? {
            shadowModel: { name: shadow.name, version: shadow.version, sha256: shadow.sha256 },
            shadowPackageUrl: shadow.packageUrl,
            shadowPackageSize: shadow.packageSize,
            shadowPackageSha256: shadow.packageSha256,
          }
        : {}),
    }),
  ).finish();
}
