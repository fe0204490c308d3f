import { randomUUID } from 'node:crypto';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { generateSigningKey, PackageRefusedError, TrustedKeys, unpackPackage, verifyPackage, type SigningKey } from '@loupe/model-package';
import { startTestDatabase, type TestDatabase } from '@loupe/testing';
import { pino } from 'pino';
import tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BlobStore } from '../blobs/blob-store';
import { FolderBlobStore } from '../blobs/folder-blob-store';
import { openDatabase, type Database } from '../database/database';
import { CloudMetrics } from '../metrics/cloud-metrics';
import { DesiredModels } from '../fleet/state/desired-models';
import { pcbAoiPackage, squeezeNetBackbonePackage } from '../testing/model-packages';
import { ModelRegistry } from './model-registry';
import { ModelVersionRepository } from './model-version.repository';
import { ModelRefusedError, PackageValidation } from './package-validation';

const workspace = resolve(import.meta.dirname, '..', '..', '..', '..');
// The upstream export onnxruntime cannot load (tools/testdata/README.md).
const UPSTREAM_OPSET1 = join(workspace, 'tools', 'testdata', 'models', 'pcb-aoi-original', 'pcb-aoi.original-opset1.onnx');

describe('ModelRegistry on Postgres and a blob folder', () => {
  let testDatabase: TestDatabase;
  let database: Database;
  let scratch: string;
  let registry: ModelRegistry;
  let authorId: string;
  const publisher = generateSigningKey();
  const registryKey = generateSigningKey();
  const metrics = new CloudMetrics();
  const pushes = async (outcome: string) =>
    (await metrics.modelPushes.get()).values.find((value) => value.labels.outcome === outcome)?.value ?? 0;

  beforeAll(async () => {
    testDatabase = await startTestDatabase();
    database = await openDatabase({ url: testDatabase.url, poolSize: 4, migrate: true }, pino({ level: 'silent' }));
    scratch = await mkdtemp(join(tmpdir(), 'loupe-registry-'));
    const validation = new PackageValidation({ publishers: () => Promise.resolve(new TrustedKeys([publisher.publicKey])) }, pino({ level: 'silent' }));
    registry = new ModelRegistry(new ModelVersionRepository(database.db), new FolderBlobStore(join(scratch, 'blobs')), validation, { signing: registryKey }, metrics);
    authorId = randomUUID();
    await database.pool.query(`INSERT INTO users (id, email, name, role, password_hash) VALUES ($1, 'ml@example.com', 'ML engineer', 'engineer', 'x')`, [authorId]);
  }, 60_000);
  afterAll(async () => {
    await database?.close();
    await testDatabase?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  const pcbAoi = (options: Omit<Parameters<typeof pcbAoiPackage>[1], 'signer'> & { signer?: SigningKey | null } = {}) =>
    pcbAoiPackage(scratch, { signer: publisher, ...options });

  const editManifest = (edit: (manifest: Record<string, unknown>) => Record<string, unknown>) => async (directory: string) => {
    const path = join(directory, 'manifest.json');
    await writeFile(path, JSON.stringify(edit(JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>)));
  };

  const stored = async () => ({
    versions: (await database.pool.query('SELECT count(*)::int AS n FROM model_versions')).rows[0] as { n: number },
    blobs: await readdir(join(scratch, 'blobs'), { recursive: true }).catch(() => []),
  });

  it('validates, numbers, signs and stores the real pcb-aoi model; its download verifies against the registry key', async () => {
    const first = await registry.push(Readable.from(await pcbAoi()), { metrics: { accuracy: 0.97 }, notes: 'first cut', datasetExport: 'pcb-defects.jsonl' }, authorId);
    expect(first).toMatchObject({
      modelName: 'pcb-aoi',
      version: 1,
      task: 'classification',
      metrics: { accuracy: 0.97 },
      notes: 'first cut',
      datasetExport: 'pcb-defects.jsonl',
      parentVersion: null,
      author: 'ml@example.com',
      validation: { provider: 'cpu', goldenSamples: 2 },
    });
    expect(first.manifest.signature?.keyId).toBe(registryKey.keyId);
    expect(await pushes('accepted')).toBe(1);

    const unpacked = join(await mkdtemp(join(scratch, 'download-')), 'package');
    await unpackPackage((await registry.openPackage('pcb-aoi', 1)).stream, unpacked);
    const verified = await verifyPackage(unpacked, new TrustedKeys([registryKey.publicKey]));
    expect(verified.model.version).toBe('1');
    // The publisher's key alone no longer verifies it: the registry signed what it accepted.
    await expect(verifyPackage(unpacked, new TrustedKeys([publisher.publicKey]))).rejects.toMatchObject({ reason: 'unknown-key' });

    const second = await registry.push(Readable.from(await pcbAoi()), { parentVersion: 1 }, authorId);
    expect({ version: second.version, parentVersion: second.parentVersion }).toEqual({ version: 2, parentVersion: 1 });
    await expect(registry.push(Readable.from(await pcbAoi()), { parentVersion: 9 }, authorId)).rejects.toThrow('no version 9 of model pcb-aoi');

    expect(await registry.promote({ modelName: 'pcb-aoi', alias: 'production', version: 2, reason: 'beat v1 on the holdout', actorId: authorId })).toEqual({ fromVersion: null });
    expect(await registry.promote({ modelName: 'pcb-aoi', alias: 'production', version: 1, reason: 'v2 misses solder bridges', actorId: authorId })).toEqual({ fromVersion: 2 });
    expect((await registry.aliasHistory('pcb-aoi')).map(({ alias, fromVersion, toVersion, actor, reason }) => ({ alias, fromVersion, toVersion, actor, reason }))).toEqual([
      { alias: 'production', fromVersion: 2, toVersion: 1, actor: 'ml@example.com', reason: 'v2 misses solder bridges' },
      { alias: 'production', fromVersion: null, toVersion: 2, actor: 'ml@example.com', reason: 'beat v1 on the holdout' },
    ]);
    expect(await registry.list()).toEqual([{ modelName: 'pcb-aoi', project: null, task: 'classification', latestVersion: 2, aliases: { production: 1 } }]);
    // A project that labels the model's samples is the model's project.
    await database.pool.query(`INSERT INTO projects (id, name, model_name, task, classes) VALUES ($1, 'PCB defects', 'pcb-aoi', 'classification', '{ok,defect}')`, [randomUUID()]);
    expect((await registry.list())[0]?.project).toBe('PCB defects');
    expect((await registry.show('pcb-aoi', 1)).aliases).toEqual(['production']);
  }, 60_000);

  async function craftedTar(entries: { name: string; type: 'file' | 'symlink'; linkname?: string }[]): Promise<Buffer> {
    const pack = tar.pack();
    for (const entry of entries) {
      if (entry.type === 'file') pack.entry({ name: entry.name, type: 'file', size: 1 }, 'x');
      else pack.entry(entry);
    }
    pack.finalize();
    const chunks: Buffer[] = [];
    for await (const chunk of pack) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  it.each([
    [
      'one flipped byte in the ONNX file',
      () =>
        pcbAoi({
          after: async (directory) => {
            const model = join(directory, 'pcb-aoi.opset11.onnx');
            const bytes = await readFile(model);
            bytes[4096] = bytes[4096]! ^ 0xff;
            await writeFile(model, bytes);
          },
        }),
      'hash-mismatch',
      /pcb-aoi\.opset11\.onnx does not match the signed manifest/,
    ],
    [
      'a manifest whose input shape is wrong',
      () => pcbAoi({ before: editManifest((m) => ({ ...m, input: { ...(m.input as object), shape: [-1, 3, 224, 224] } })) }),
      'model-load-failed',
      /does not match its manifest/,
    ],
    [
      'a golden sample whose expected scores are off',
      () =>
        pcbAoi({
          before: editManifest((m) => ({
            ...m,
            goldenSamples: [{ image: 'sample-images/Defective_02.png', expected: { Defective: 0.5, Normal: 0.5 }, tolerance: 0.01 }],
          })),
        }),
      'golden-mismatch',
      /golden samples do not reproduce/,
    ],
    ['an unsigned package', () => pcbAoi({ signer: null }), 'unsigned', /not signed/],
    ['a package signed by an unknown key', () => pcbAoi({ signer: generateSigningKey() }), 'unknown-key', /not trusted here/],
    ['a tar with a ../ entry', () => craftedTar([{ name: '../loupe-package.json', type: 'file' }]), 'unsafe-entry', /not a path inside a package/],
    ['a tar with a symlink', () => craftedTar([{ name: 'pcb-aoi.opset11.onnx', type: 'symlink', linkname: '/etc/passwd' }]), 'unsafe-entry', /symlink/],
    ['a tar cut short', async () => (await pcbAoi()).subarray(0, 100_000), 'invalid-tar', /not a complete tar archive .*cut short/],
    ['a tar with bytes after its end', async () => Buffer.concat([await pcbAoi(), Buffer.from('trailing')]), 'invalid-tar', /not a complete tar archive/],
    ['a body that is not a tar', () => Promise.resolve(Buffer.from('{"model":"pcb-aoi"}')), 'invalid-tar', /not a complete tar archive/],
    [
      'the upstream opset-1 export onnxruntime cannot load',
      () => pcbAoi({ before: (directory) => cp(UPSTREAM_OPSET1, join(directory, 'pcb-aoi.opset11.onnx')) }),
      'model-load-failed',
      /does not load/,
    ],
  ] as [string, () => Promise<Buffer>, string, RegExp][])('refuses %s, saying why, and stores nothing', async (_, build, reason, message) => {
    const before = await stored();
    const counted = await pushes(reason);
    const error = await registry.push(Readable.from(await build()), {}, authorId).catch((failure: unknown) => failure);
    expect(error instanceof PackageRefusedError || error instanceof ModelRefusedError).toBe(true);
    expect(error).toMatchObject({ reason, message: expect.stringMatching(message) as unknown });
    expect(await stored()).toEqual(before);
    expect(await pushes(reason)).toBe(counted + 1);
  }, 60_000);

  it('stores the shipped backbone as a version of task features, which is never sent to devices', async () => {
    const pushed = await registry.push(Readable.from(await squeezeNetBackbonePackage(scratch, { signer: publisher })), { notes: 'default backbone' }, authorId);
    expect(pushed).toMatchObject({ modelName: 'squeezenet-features', version: 1, task: 'features', validation: { provider: 'cpu', goldenSamples: 0 } });
    await expect(new DesiredModels(registry, () => 'http://cloud.test').of('squeezenet-features', 1)).rejects.toThrow(/is a backbone \(task features\)/);
  });

  it('numbers the next push as the version whose commit failed after its package was written, without colliding with that blob', async () => {
    const blobs = new FolderBlobStore(join(scratch, 'blobs'));
    let failAfterPut = true;
    const failingOnce: BlobStore = {
      location: blobs.location,
      put: async (key, body, contentType) => {
        await blobs.put(key, body, contentType);
        if (!failAfterPut) return;
        failAfterPut = false;
        throw new Error('the database went away before the commit');
      },
      get: (key) => blobs.get(key),
      open: (key, from) => blobs.open(key, from),
      downloadUrl: () => blobs.downloadUrl(),
      check: () => blobs.check(),
    };
    const validation = new PackageValidation({ publishers: () => Promise.resolve(new TrustedKeys([publisher.publicKey])) }, pino({ level: 'silent' }));
    const flaky = new ModelRegistry(new ModelVersionRepository(database.db), failingOnce, validation, { signing: registryKey }, metrics);
    const next = ((await database.pool.query<{ n: number }>(`SELECT COALESCE(max(version), 0) + 1 AS n FROM model_versions WHERE model_name = 'pcb-aoi'`)).rows[0]!).n;
    await expect(flaky.push(Readable.from(await pcbAoi()), {}, authorId)).rejects.toThrow('the database went away before the commit');
    // Another package gets the same number; its bytes differ from the blob the failed push left.
    const other = await pcbAoi({ before: editManifest((manifest) => ({ ...manifest, decision: { rejectLabels: ['Defective'], minScore: 0.6 } })) });
    const pushed = await flaky.push(Readable.from(other), {}, authorId);
    expect(pushed.version).toBe(next);
    const unpacked = join(await mkdtemp(join(scratch, 'download-')), 'package');
    await unpackPackage((await flaky.openPackage('pcb-aoi', next)).stream, unpacked);
    expect(JSON.parse(await readFile(join(unpacked, 'manifest.json'), 'utf8'))).toMatchObject({ decision: { minScore: 0.6 } });
  }, 60_000);
});
