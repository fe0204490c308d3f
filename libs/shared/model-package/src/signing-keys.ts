import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { signedBytes, type PackageManifest } from './package-manifest';
import { PackageRefusedError } from './package-refused.error';

/** An ed25519 key that signs packages, and the id devices know it by. */
export interface SigningKey {
  keyId: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** The first 16 hex digits of the SHA-256 of the public key's SPKI DER: short, and stable across rotations of other keys. */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
}

export function generateSigningKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { keyId: keyIdOf(publicKey), privateKey, publicKey };
}

/** A signing key from its PKCS#8 PEM, as kept in a file or a secret. */
export function signingKeyFromPem(pem: string): SigningKey {
  const privateKey = createPrivateKey(pem);
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error(`a package signing key must be ed25519, not ${privateKey.asymmetricKeyType}`);
  const publicKey = createPublicKey(privateKey);
  return { keyId: keyIdOf(publicKey), privateKey, publicKey };
}

export function signingKeyToPem(key: SigningKey): string {
  return key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

export function publicKeyToPem(key: KeyObject): string {
  return key.export({ type: 'spki', format: 'pem' }).toString();
}

/** Signs the manifest with the key, replacing any earlier signature. */
export function signPackageManifest(manifest: PackageManifest, key: SigningKey): PackageManifest {
  const value = sign(null, signedBytes(manifest), key.privateKey).toString('base64');
  return { ...manifest, signature: { algorithm: 'ed25519', keyId: key.keyId, value } };
}

/** The public keys a verifier trusts, by key id; several at once while keys rotate. */
export class TrustedKeys {
  private readonly keys = new Map<string, KeyObject>();

  constructor(publicKeys: readonly (KeyObject | string)[]) {
    for (const key of publicKeys) {
      const publicKey = typeof key === 'string' ? createPublicKey(key) : key;
      if (publicKey.asymmetricKeyType !== 'ed25519') throw new Error(`a trusted package key must be ed25519, not ${publicKey.asymmetricKeyType}`);
      this.keys.set(keyIdOf(publicKey), publicKey);
    }
  }

  get keyIds(): string[] {
    return [...this.keys.keys()];
  }

  /** Throws unless the manifest carries a signature by one of these keys over exactly its content. */
  checkSignature(manifest: PackageManifest): void {
    const signature = manifest.signature;
    if (!signature) throw new PackageRefusedError('unsigned', 'the package is not signed; sign it (or push it to the registry, which signs what it accepts)');
    const key = this.keys.get(signature.keyId);
    if (!key) throw new PackageRefusedError('unknown-key', `the package is signed by key ${signature.keyId}, which is not trusted here (trusted: ${this.keyIds.join(', ') || 'none'})`);
    if (!verify(null, signedBytes(manifest), key, Buffer.from(signature.value, 'base64'))) {
      throw new PackageRefusedError('bad-signature', `the signature by key ${signature.keyId} does not match the package manifest: it was changed after signing`);
    }
  }
}
