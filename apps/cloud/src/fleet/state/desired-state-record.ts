import type { DeployableModel, DesiredModel } from '@loupe/device-state';

/** What the cloud wants one device to run: a rollout's target, and the candidate to shadow beside it. */
export interface DesiredStateRecord {
  model: DeployableModel;
  rolloutId: string;
  shadow?: DeployableModel;
}

/**
 * One model as device_model_states.desired holds it. Rows written by every
 * release so far have this flat shape, and rollouts match on `rolloutId`
 * inside it, so the column keeps it; the domain shape lives in
 * @loupe/device-state and is mapped here only.
 */
interface StoredModel {
  name: string;
  version: string;
  sha256: string;
  packageUrl: string;
  packageSize: number;
  packageSha256: string;
  /** Base64; empty when the package carries no signature. */
  signature: string;
  signingKeyId: string;
}

export interface StoredDesiredState {
  model: StoredModel;
  rolloutId: string;
  shadow?: StoredModel;
}

function storedModel({ model, package: pkg, signature }: DeployableModel): StoredModel {
  return { ...model, packageUrl: pkg.url, packageSize: pkg.size, packageSha256: pkg.sha256, signature: signature?.value ?? '', signingKeyId: signature?.keyId ?? '' };
}

function deployableModel(stored: StoredModel): DeployableModel {
  return {
    model: { name: stored.name, version: stored.version, sha256: stored.sha256 },
    package: { url: stored.packageUrl, size: stored.packageSize, sha256: stored.packageSha256 },
    ...(stored.signature === '' ? {} : { signature: { keyId: stored.signingKeyId, value: stored.signature } }),
  };
}

export function toStoredDesiredState(record: DesiredStateRecord): StoredDesiredState {
  return { model: storedModel(record.model), rolloutId: record.rolloutId, ...(record.shadow ? { shadow: storedModel(record.shadow) } : {}) };
}

export function fromStoredDesiredState(stored: StoredDesiredState): DesiredStateRecord {
  return { model: deployableModel(stored.model), rolloutId: stored.rolloutId, ...(stored.shadow ? { shadow: deployableModel(stored.shadow) } : {}) };
}

/** The DesiredState one device gets for `record`: the shadow goes without its signature, which the wire does not carry. */
export function desiredModelOf(record: DesiredStateRecord, generation: number): DesiredModel {
  const { shadow } = record;
  return { ...record.model, generation, rolloutId: record.rolloutId, ...(shadow ? { shadow: { model: shadow.model, package: shadow.package } } : {}) };
}
