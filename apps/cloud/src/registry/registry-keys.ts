import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { generateSigningKey, signingKeyFromPem, signingKeyToPem, TrustedKeys, type SigningKey } from '@loupe/model-package';
import type { Logger } from 'pino';
import type { CloudConfig } from '../config/cloud-config';

export interface RegistryKeys {
  /** Signs every package the registry accepts. */
  signing: SigningKey;
  /**
   * Whose packages may be pushed, read from the file at every push, so a
   * publisher added to it can push without a restart.
   */
  publishers(): Promise<TrustedKeys>;
}

const PEM_BLOCK = /-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----/g;

export async function loadRegistryKeys(config: CloudConfig['registry'], logger: Logger): Promise<RegistryKeys> {
  const publishers = () => publisherKeys(config.publisherKeysFile);
  const atStart = await publishers();
  if (atStart.keyIds.length === 0) {
    logger.warn({ file: config.publisherKeysFile }, 'no publisher keys yet: model pushes are refused until a public key is in this file (loupe model keygen makes one)');
  } else {
    logger.info({ keyIds: atStart.keyIds }, 'model publishers');
  }
  return { signing: await signingKey(config, logger), publishers };
}

async function signingKey(config: CloudConfig['registry'], logger: Logger): Promise<SigningKey> {
  const pem = await readFile(config.signingKeyFile, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' && !config.signingKeyConfigured) return undefined;
    throw new Error(`REGISTRY_SIGNING_KEY_FILE: cannot read ${config.signingKeyFile}: ${error.message}`);
  });
  if (pem !== undefined) {
    try {
      return signingKeyFromPem(pem);
    } catch (error) {
      throw new Error(`REGISTRY_SIGNING_KEY_FILE: ${config.signingKeyFile} is not an ed25519 private key: ${(error as Error).message}`);
    }
  }
  const key = generateSigningKey();
  await mkdir(dirname(config.signingKeyFile), { recursive: true });
  // 'wx': a replica that lost the race reads the winner's key instead.
  const written = await writeFile(config.signingKeyFile, signingKeyToPem(key), { flag: 'wx', mode: 0o600 }).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'EEXIST') return false;
      throw error;
    },
  );
  if (!written) return signingKeyFromPem(await readFile(config.signingKeyFile, 'utf8'));
  logger.warn({ keyId: key.keyId, file: config.signingKeyFile }, 'generated the registry signing key; keep this file safe, and share it (REGISTRY_SIGNING_KEY_FILE) between replicas');
  return key;
}

async function publisherKeys(file: string): Promise<TrustedKeys> {
  const pem = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw new Error(`REGISTRY_PUBLISHER_KEYS_FILE: cannot read ${file}: ${error.message}`);
  });
  try {
    return new TrustedKeys(pem.match(PEM_BLOCK) ?? []);
  } catch (error) {
    throw new Error(`REGISTRY_PUBLISHER_KEYS_FILE: ${file}: ${(error as Error).message}`);
  }
}
