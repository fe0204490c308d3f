import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_UNPACK_LIMITS, generateSigningKey, PackageRefusedError, type RefusalReason } from '@loupe/model-package';
import type { DesiredModel } from '@loupe/device-state';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { flipByte, pcbAoiPackage, writeRegistryKeys, type TestPackage } from '../testing/model-packages';
import { nodeFileSystem } from '../storage/file-system';
import { ModelStore } from './model-store';
import { PackageVerification } from './package-verification';

const registry = generateSigningKey();
const stranger = generateSigningKey();

describe('the verify step', () => {
  let workDir: string;
  let root: string;
  let store: ModelStore;
  let keysFile: string;
  let good: TestPackage;

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'loupe-verify-'));
    good = await pcbAoiPackage(workDir, { version: '2', signer: registry });
  });
  afterAll(() => rm(workDir, { recursive: true, force: true }));
  beforeEach(async () => {
    root = await mkdtemp(join(workDir, 'models-'));
    store = new ModelStore(root, nodeFileSystem);
    await store.prepare();
    keysFile = join(root, 'registry-keys.json');
    await writeRegistryKeys(keysFile, [registry]);
  });

  const verification = () => new PackageVerification(store, keysFile, DEFAULT_UNPACK_LIMITS, pino({ level: 'silent' }));

  function desiredFor(pkg: TestPackage, overrides: Partial<DesiredModel> = {}): DesiredModel {
    const signature = pkg.manifest.signature!;
    return {
      generation: 3,
      model: pkg.model,
      package: { url: 'http://unused', size: pkg.bytes.length, sha256: pkg.sha256 },
      signature: { keyId: signature.keyId, value: signature.value },
      rolloutId: '',
      ...overrides,
    };
  }

  async function downloaded(pkg: TestPackage): Promise<void> {
    await writeFile(store.packageFile(pkg.sha256), pkg.bytes);
  }

  async function refusal(work: Promise<unknown>): Promise<RefusalReason> {
    const error = await work.then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(PackageRefusedError);
    return (error as PackageRefusedError).reason;
  }

  it('unpacks a package signed by the registry and naming the desired model', async () => {
    await downloaded(good);
    const verified = await verification().run(desiredFor(good));
    expect(verified.directory).toBe(store.unpackDirectory(good.sha256));
    expect(verified.model).toMatchObject({ name: 'pcb-aoi', version: '2' });
    expect((await readdir(verified.directory)).sort()).toEqual(['loupe-package.json', 'manifest.json', 'pcb-aoi.opset11.onnx', 'sample-images']);
  });

  it('refuses a file whose SHA-256 is not the declared one, and deletes it', async () => {
    const declared = 'e'.repeat(64);
    await writeFile(store.packageFile(declared), good.bytes);
    expect(await refusal(verification().run(desiredFor(good, { package: { url: '', size: good.bytes.length, sha256: declared } })))).toBe('hash-mismatch');
    await expect(stat(store.packageFile(declared))).rejects.toThrow();
  });

  it('refuses a package with one flipped byte in its model, leaving nothing unpacked', async () => {
    const corrupt = await pcbAoiPackage(workDir, { version: '2', signer: registry, after: (directory) => flipByte(join(directory, 'pcb-aoi.opset11.onnx')) });
    await downloaded(corrupt);
    expect(await refusal(verification().run(desiredFor(corrupt)))).toBe('hash-mismatch');
    expect(await readdir(join(root, 'unpacking'))).toEqual([]);
  });

  it('refuses a package signed by a key the registry does not publish', async () => {
    const foreign = await pcbAoiPackage(workDir, { version: '2', signer: stranger });
    await downloaded(foreign);
    expect(await refusal(verification().run(desiredFor(foreign)))).toBe('unknown-key');
  });

  it('refuses everything while the registry keys file is missing, saying where it should be', async () => {
    await rm(keysFile);
    await downloaded(good);
    const run = verification().run(desiredFor(good));
    await expect(run).rejects.toThrow(`REGISTRY_KEYS_FILE ${keysFile}`);
  });

  it('refuses a validly signed package of another version than the desired one', async () => {
    const other = await pcbAoiPackage(workDir, { version: '3', signer: registry });
    await downloaded(other);
    expect(await refusal(verification().run(desiredFor(other, { model: good.model })))).toBe('manifest-mismatch');
  });

  it('refuses a package whose signature is not the one the desired state names', async () => {
    const resigned = await pcbAoiPackage(workDir, { version: '2', signer: generateSigningKey() });
    await writeRegistryKeys(keysFile, [registry, stranger]);
    await downloaded(good);
    const otherSignature = resigned.manifest.signature!;
    expect(await refusal(verification().run(desiredFor(good, { signature: { keyId: otherSignature.keyId, value: otherSignature.value } })))).toBe(
      'bad-signature',
    );
  });
});
