import { cp, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import tar, { type Header } from 'tar-stream';
import { afterEach, describe, expect, it } from 'vitest';
import { describePackage, readPackageManifest, verifyPackage, writePackageManifest } from './model-package';
import { externalDataLocations } from './onnx-external-data';
import { PACKAGE_FILE } from './package-manifest';
import { PackageRefusedError, type RefusalReason } from './package-refused.error';
import { packedPackage, unpackPackage } from './package-tar';
import { generateSigningKey, signPackageManifest, TrustedKeys } from './signing-keys';

const PCB_AOI = resolve(import.meta.dirname, '..', '..', '..', '..', 'tools', 'demo', 'models', 'pcb-aoi');
const registryKey = generateSigningKey();
const trusted = new TrustedKeys([registryKey.publicKey]);

const directories: string[] = [];
async function scratch(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'loupe-package-'));
  directories.push(directory);
  return directory;
}
afterEach(async () => {
  await Promise.all(directories.splice(0).map((directory) => rm(directory, { recursive: true, force: true })));
});

/** The pcb-aoi demo model as a signed package, packed and unpacked into a fresh directory. */
async function unpackedPcbAoi(sign = (manifest: Awaited<ReturnType<typeof describePackage>>) => signPackageManifest(manifest, registryKey)): Promise<string> {
  const source = await scratch();
  await cp(PCB_AOI, source, { recursive: true });
  await writePackageManifest(source, sign(await describePackage(source)));
  const unpacked = join(await scratch(), 'package');
  await unpackPackage(Readable.from(await packedPackage(source)), unpacked);
  return unpacked;
}

async function refusal(work: Promise<unknown>): Promise<RefusalReason> {
  const error = await work.then(
    () => undefined,
    (failure: unknown) => failure,
  );
  if (!(error instanceof PackageRefusedError)) throw new Error(`expected a refusal, got ${String(error)}`);
  return error.reason;
}

describe('model packages', () => {
  it('packs the real pcb-aoi model with its golden samples, and verifies it after unpacking', async () => {
    const unpacked = await unpackedPcbAoi();
    const verified = await verifyPackage(unpacked, trusted);
    expect(verified.model).toMatchObject({ name: 'pcb-aoi', version: '1', task: 'classification' });
    expect(verified.manifest.files.map((file) => file.path)).toEqual([
      'manifest.json',
      'pcb-aoi.opset11.onnx',
      'sample-images/Defective_02.png',
      'sample-images/Normal_33.png',
    ]);
    expect(verified.manifest.signature?.keyId).toBe(registryKey.keyId);
    expect(verified.modelPath).toBe(join(unpacked, 'pcb-aoi.opset11.onnx'));
    // The same package packs to the same bytes.
    expect((await packedPackage(unpacked)).equals(await packedPackage(unpacked))).toBe(true);
  });

  it('refuses one flipped byte in the ONNX file', async () => {
    const unpacked = await unpackedPcbAoi();
    const model = join(unpacked, 'pcb-aoi.opset11.onnx');
    const bytes = await readFile(model);
    const middle = bytes.length >> 1;
    bytes[middle] = bytes[middle]! ^ 0x01;
    await writeFile(model, bytes);
    const error = await verifyPackage(unpacked, trusted).catch((failure: unknown) => failure as PackageRefusedError);
    expect(error).toBeInstanceOf(PackageRefusedError);
    expect(error).toMatchObject({ reason: 'hash-mismatch', message: expect.stringMatching(/^pcb-aoi\.opset11\.onnx does not match the signed manifest/) as unknown });
  });

  it('refuses a package that is unsigned, signed by an unknown key, or changed after signing', async () => {
    expect(await refusal(verifyPackage(await unpackedPcbAoi((manifest) => manifest), trusted))).toBe('unsigned');
    expect(await refusal(verifyPackage(await unpackedPcbAoi((manifest) => signPackageManifest(manifest, generateSigningKey())), trusted))).toBe('unknown-key');

    const retitled = await unpackedPcbAoi();
    const manifest = await readPackageManifest(retitled);
    await writePackageManifest(retitled, { ...manifest, model: { ...manifest.model, version: '2' } });
    expect(await refusal(verifyPackage(retitled, trusted))).toBe('bad-signature');
  });

  it('accepts a package signed by any trusted key, so keys can rotate', async () => {
    const next = generateSigningKey();
    const unpacked = await unpackedPcbAoi((manifest) => signPackageManifest(manifest, next));
    expect((await verifyPackage(unpacked, new TrustedKeys([registryKey.publicKey, next.publicKey]))).manifest.signature?.keyId).toBe(next.keyId);
  });

  it('refuses a file the signed manifest does not list, and a listed file replaced by a symlink', async () => {
    const extra = await unpackedPcbAoi();
    await writeFile(join(extra, 'notes.txt'), 'not signed');
    expect(await refusal(verifyPackage(extra, trusted))).toBe('unlisted-file');

    const linked = await unpackedPcbAoi();
    const image = join(linked, 'sample-images', 'Normal_33.png');
    await rm(image);
    await symlink(join(PCB_AOI, 'sample-images', 'Normal_33.png'), image);
    expect(await refusal(verifyPackage(linked, trusted))).toBe('unsafe-entry');
  });

  it('refuses a model whose tensors keep data outside the package', async () => {
    const source = await scratch();
    await cp(PCB_AOI, source, { recursive: true });
    await writeFile(join(source, 'pcb-aoi.opset11.onnx'), onnxWithExternalData('../../etc/passwd'));
    const error = await describePackage(source).catch((failure: unknown) => failure as PackageRefusedError);
    expect(error).toMatchObject({ reason: 'external-data', message: expect.stringContaining('"../../etc/passwd"') as unknown });
    expect(externalDataLocations(onnxWithExternalData('weights.bin'))).toEqual(['weights.bin']);
    expect(externalDataLocations(await readFile(join(PCB_AOI, 'pcb-aoi.opset11.onnx')))).toEqual([]);
  });

  describe('unpacking', () => {
    type Entry = Pick<Header, 'name' | 'type'> & { size?: number; linkname?: string };

    async function craftedTar(entries: Entry[]): Promise<Readable> {
      const pack = tar.pack();
      for (const header of entries) {
        if (header.type === 'file') pack.entry(header, 'x'.repeat(header.size ?? 0));
        else pack.entry(header);
      }
      pack.finalize();
      const chunks: Buffer[] = [];
      for await (const chunk of pack) chunks.push(chunk as Buffer);
      return Readable.from(Buffer.concat(chunks));
    }

    it.each([
      ['a ../ entry', [{ name: '../escaped.txt', type: 'file', size: 1 }]],
      ['an absolute path', [{ name: '/tmp/escaped.txt', type: 'file', size: 1 }]],
      ['a symlink', [{ name: 'model.onnx', type: 'symlink', linkname: '/etc/passwd' }]],
      ['a hard link', [{ name: 'model.onnx', type: 'link', linkname: 'manifest.json' }]],
      ['a name twice', [{ name: 'a.txt', type: 'file', size: 1 }, { name: 'a.txt', type: 'file', size: 1 }]],
    ] as [string, Entry[]][])('refuses a tar with %s, writing nothing outside its directory', async (_, entries) => {
      const parent = await scratch();
      const destination = join(parent, 'package');
      expect(await refusal(unpackPackage(await craftedTar(entries), destination))).toBe('unsafe-entry');
      expect(await readFile(join(parent, 'escaped.txt')).catch(() => 'absent')).toBe('absent');
    });

    it('refuses a tar bigger than its limits', async () => {
      const destination = join(await scratch(), 'package');
      const entries: Entry[] = [{ name: 'big.bin', type: 'file', size: 2048 }];
      expect(await refusal(unpackPackage(await craftedTar(entries), destination, { maxBytes: 1024, maxEntries: 10 }))).toBe('too-large');
    });

    it('names the package manifest first, so a reader can stop early', async () => {
      const unpacked = await unpackedPcbAoi();
      const extract = tar.extract();
      Readable.from(await packedPackage(unpacked)).pipe(extract);
      const names: string[] = [];
      for await (const entry of extract) {
        names.push(entry.header.name);
        entry.resume();
      }
      expect(names[0]).toBe(PACKAGE_FILE);
      expect(names).toHaveLength(5);
    });
  });
});

/** A minimal ONNX model (graph with one initializer) whose tensor data lives in `location`. */
function onnxWithExternalData(location: string): Uint8Array {
  const entry = new BinaryWriter().tag(1, WireType.LengthDelimited).string('location').tag(2, WireType.LengthDelimited).string(location).finish();
  const tensor = new BinaryWriter().tag(8, WireType.LengthDelimited).string('weights').tag(13, WireType.LengthDelimited).bytes(entry).tag(14, WireType.Varint).int32(1).finish();
  const graph = new BinaryWriter().tag(5, WireType.LengthDelimited).bytes(tensor).finish();
  return new BinaryWriter().tag(1, WireType.Varint).int64(8).tag(7, WireType.LengthDelimited).bytes(graph).finish();
}
