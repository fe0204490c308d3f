import type { ModelVersion } from './model-version';

/** A model package as a box fetches it: where, how big, and the hash of the file. */
export interface PackageRef {
  url: string;
  size: number;
  sha256: string;
}

/** The package manifest's signature as the registry made it (base64 value) and the key that made it. */
export interface PackageSignature {
  keyId: string;
  value: string;
}

/** A model version ready to go to boxes: what it is, where to fetch it, how to check it. */
export interface DeployableModel {
  model: ModelVersion;
  package: PackageRef;
  /** Absent when the message carries none. */
  signature?: PackageSignature;
}

/** A candidate to run beside the active model on the same images; it never serves. */
export interface ShadowModel {
  model: ModelVersion;
  package: PackageRef;
}

/** What a box is asked to serve (DesiredState), with everything it needs to fetch and check it. */
export interface DesiredModel extends DeployableModel {
  /** Increases with every change for one device; a box ignores a lower one. */
  generation: number;
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
