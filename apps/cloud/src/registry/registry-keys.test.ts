import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSigningKey, publicKeyToPem, signingKeyToPem } from '@loupe/model-package';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadRegistryKeys } from './registry-keys';

const silent = pino({ level: 'silent' });
const directories: string[] = [];
async function scratch(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'loupe-registry-keys-'));
  directories.push(directory);
  return directory;
}
afterEach(async () => {
  await Promise.all(directories.splice(0).map((directory) => rm(directory, { recursive: true, force: true })));
});

const settings = (directory: string, overrides: { signingKeyConfigured?: boolean } = {}) => ({
  signingKeyFile: join(directory, 'registry', 'signing-key.pem'),
  signingKeyConfigured: overrides.signingKeyConfigured ?? false,
  publisherKeysFile: join(directory, 'publishers.pem'),
  maxPackageBytes: 1024 ** 2,
  trainerKeyFile: join(directory, 'trainer', 'signing-key.pem'),
  trainerKeyConfigured: false,
});

describe('registry keys', () => {
  it('generates the signing key at first start, private to the owner, and keeps it across starts', async () => {
    const directory = await scratch();
    const first = await loadRegistryKeys(settings(directory), silent);
    expect(((await stat(join(directory, 'registry', 'signing-key.pem'))).mode & 0o777).toString(8)).toBe('600');
    const second = await loadRegistryKeys(settings(directory), silent);
    expect(second.signing.keyId).toBe(first.signing.keyId);
  });

  it('uses a configured key, and refuses to start without it or with something else in its place', async () => {
    const directory = await scratch();
    const configured = generateSigningKey();
    await writeFile(join(directory, 'mine.pem'), signingKeyToPem(configured));
    const withFile = { ...settings(directory, { signingKeyConfigured: true }), signingKeyFile: join(directory, 'mine.pem') };
    expect((await loadRegistryKeys(withFile, silent)).signing.keyId).toBe(configured.keyId);
    await expect(loadRegistryKeys({ ...withFile, signingKeyFile: join(directory, 'missing.pem') }, silent)).rejects.toThrow(/REGISTRY_SIGNING_KEY_FILE: cannot read .*missing\.pem/);
    await writeFile(join(directory, 'mine.pem'), publicKeyToPem(configured.publicKey));
    await expect(loadRegistryKeys(withFile, silent)).rejects.toThrow(/REGISTRY_SIGNING_KEY_FILE: .* is not an ed25519 private key/);
  });

  it('reads the publisher keys at every call, so a key added while running is trusted, and names a broken file', async () => {
    const directory = await scratch();
    const keys = await loadRegistryKeys(settings(directory), silent);
    expect((await keys.publishers()).keyIds).toEqual([keys.trainer.keyId]);
    const [alice, bob] = [generateSigningKey(), generateSigningKey()];
    await writeFile(join(directory, 'publishers.pem'), `${publicKeyToPem(alice.publicKey)}\n${publicKeyToPem(bob.publicKey)}`);
    expect((await keys.publishers()).keyIds).toEqual([alice.keyId, bob.keyId, keys.trainer.keyId]);
    await writeFile(join(directory, 'publishers.pem'), '-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n');
    await expect(keys.publishers()).rejects.toThrow(/REGISTRY_PUBLISHER_KEYS_FILE: .*publishers\.pem/);
  });

  it("keeps the trainer's publisher key in a file of its own, apart from the registry's, and always trusts it for pushes", async () => {
    const directory = await scratch();
    const first = await loadRegistryKeys(settings(directory), silent);
    expect(((await stat(join(directory, 'trainer', 'signing-key.pem'))).mode & 0o777).toString(8)).toBe('600');
    expect(first.trainer.keyId).not.toBe(first.signing.keyId);
    expect((await first.publishers()).keyIds).not.toContain(first.signing.keyId);
    const second = await loadRegistryKeys(settings(directory), silent);
    expect(second.trainer.keyId).toBe(first.trainer.keyId);
    const missing = { ...settings(directory), trainerKeyFile: join(directory, 'nowhere.pem'), trainerKeyConfigured: true };
    await expect(loadRegistryKeys(missing, silent)).rejects.toThrow(/TRAINER_SIGNING_KEY_FILE: cannot read .*nowhere\.pem/);
  });
});
