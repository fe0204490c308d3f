export { describePackage, fileDigest, readPackageManifest, verifyPackage, writePackageManifest, type VerifiedPackage } from './model-package';
export { externalDataLocations } from './onnx-external-data';
export {
  MODEL_MANIFEST_FILE,
  PACKAGE_FILE,
  PACKAGE_FORMAT,
  packageManifestSchema,
  parsePackageManifest,
  type PackageFile,
  type PackageManifest,
} from './package-manifest';
export { PackageRefusedError, type RefusalReason } from './package-refused.error';
export { DEFAULT_UNPACK_LIMITS, packedPackage, packPackage, signedPackage, unpackPackage, type UnpackLimits } from './package-tar';
export {
  generateSigningKey,
  keyIdOf,
  publicKeyToPem,
  signingKeyFromPem,
  signingKeyToPem,
  signPackageManifest,
  TrustedKeys,
  type SigningKey,
} from './signing-keys';
