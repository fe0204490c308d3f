import type { KeyObject } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { generateSigningKey, signingKeyFromPem, signingKeyToPem, TrustedKeys, type SigningKey } from '@loupe/model-package';
import type { Logger } from 'pino';
import type { CloudConfig } from '../config/cloud-config';

export interface RegistryKeys {
  /** Signs every package the registry accepts. */
  signing: SigningKey;
  /**
   * The cloud's own trainer signs its candidates with this key before it
   * pushes them, like any publisher. A key of its own, not the registry's:
   * the registry's key says "validated and numbered by the registry", this
   * one only "made by this cloud's trainer", and it can be rotated or
   * withdrawn without touching what boxes trust.
   */
  trainer: SigningKey;
  /**
   * Whose packages may be pushed, read from the file at every push, so a
   * publisher added to it can push without a restart; the trainer's key is
   * always among them.
   */
  publishers(): Promise<TrustedKeys>;
}

const PEM_BLOCK = /-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----/g;

export async function loadRegistryKeys(config: CloudConfig['registry'], logger: Logger): Promise<RegistryKeys> {
  const trainer = await keptKey({ file: config.trainerKeyFile, configured: config.trainerKeyConfigured, setting: 'TRAINER_SIGNING_KEY_FILE', what: "the trainer's publisher key" }, logger);
  const publishers = () => publisherKeys(config.publisherKeysFile, [trainer.publicKey]);
  const atStart = await publishers();
  if (atStart.keyIds.length === 1) {
    logger.warn({ file: config.publisherKeysFile }, 'no publisher keys yet: model pushes are refused until a public key is in this file (loupe model keygen makes one)');
  }
  logger.info({ keyIds: atStart.keyIds, trainerKeyId: trainer.keyId }, 'model publishers');
  const signing = await keptKey({ file: config.signingKeyFile, configured: config.signingKeyConfigured, setting: 'REGISTRY_SIGNING_KEY_FILE', what: 'the registry signing key' }, logger);
  return { signing, trainer, publishers };
}

interface KeptKeySettings {
  file: string;
  /** Set by the operator: the file must exist. Otherwise it is generated at first start. */
  configured: boolean;
  setting: string;
  what: string;
}

/** A private key kept in a file: read, or generated there at first start when not configured. */
async function keptKey(key: KeptKeySettings, logger: Logger): Promise<SigningKey> {
  const pem = await readFile(key.file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' && !key.configured) return undefined;
    throw new Error(`${key.setting}: cannot read ${key.file}: ${error.message}`);
  });
  if (pem !== undefined) {
    try {
      return signingKeyFromPem(pem);
    } catch (error) {
      throw new Error(`${key.setting}: ${key.file} is not an ed25519 private key: ${(error as Error).message}`);
    }
  }
  const generated = generateSigningKey();
  await mkdir(dirname(key.file), { recursive: true });
  // 'wx': a replica that lost the race reads the winner's key instead.
  const written = await writeFile(key.file, signingKeyToPem(generated), { flag: 'wx', mode: 0o600 }).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'EEXIST') return false;
      throw error;
    },
  );
  if (!written) return signingKeyFromPem(await readFile(key.file, 'utf8'));
  logger.warn({ keyId: generated.keyId, file: key.file }, `generated ${key.what}; keep this file safe, and share it (${key.setting}) between replicas`);
  return generated;
}

/** The keys in the file, and those the cloud trusts whatever the file says. */
async function publisherKeys(file: string, always: KeyObject[]): Promise<TrustedKeys> {
  const pem = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw new Error(`REGISTRY_PUBLISHER_KEYS_FILE: cannot read ${file}: ${error.message}`);
  });
  try {
    return new TrustedKeys([...(pem.match(PEM_BLOCK) ?? []), ...always]);
  } catch (error) {
    throw new Error(`REGISTRY_PUBLISHER_KEYS_FILE: ${file}: ${(error as Error).message}`);
  }
}
