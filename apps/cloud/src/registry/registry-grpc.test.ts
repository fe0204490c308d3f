import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { TrustedKeys, unpackPackage, verifyPackage, type SigningKey } from '@loupe/model-package';
import { ModelRegistryServiceClient, type DownloadModelResponse, type ModelVersion } from '@loupe/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningCloud } from '../cloud-runtime';
import { pcbAoiPackage } from '../testing/model-packages';
import { signedInAsAdmin } from '../testing/sign-in';
import { startTestCloud, type TestCloud } from '../testing/test-cloud';
import { REFUSAL_TRAILER } from './registry-grpc';

describe('the ModelRegistry gRPC service', () => {
  let testCloud: TestCloud;
  let cloud: RunningCloud;
  let dataDir: string;
  let publisher: SigningKey;
  let client: ModelRegistryServiceClient;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    testCloud = await startTestCloud();
    ({ cloud, dataDir, publisher } = testCloud);
    const admin = await signedInAsAdmin(cloud.httpUrl);
    for (const role of ['engineer', 'labeler']) {
      const user = { email: `${role}@grpc.test`, name: role, role, password: `${role}-password-12` };
      await fetch(`${cloud.httpUrl}/api/users`, { method: 'POST', headers: { ...(admin.headers as Record<string, string>), 'content-type': 'application/json' }, body: JSON.stringify(user) });
      const login = await fetch(`${cloud.httpUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(user) });
      tokens[role] = ((await login.json()) as { token: string }).token;
    }
    client = new ModelRegistryServiceClient(cloud.grpcAddress, credentials.createInsecure());
  }, 60_000);

  afterAll(async () => {
    client?.close();
    await testCloud?.stop();
  });

  /** Call metadata with the role's session; null: none. */
  const as = (role: string | null) => {
    const metadata = new Metadata();
    if (role) metadata.set('authorization', `Bearer ${tokens[role]}`);
    return metadata;
  };

  /** Pushes the tar in 64 KiB chunks after its header; resolves with the version or the call's error. */
  function push(tar: Buffer, role: string | null = 'engineer'): Promise<{ version?: ModelVersion; error?: ServiceError }> {
    return new Promise((resolve) => {
      const call = client.pushModel(as(role), (error, version) => resolve(error ? { error } : { version: version }));
      call.write({ part: { $case: 'header', value: { notes: 'over gRPC', datasetExport: '', parentVersion: 0, metrics: { accuracy: 0.95 }, packageBytes: tar.length } } });
      for (let offset = 0; offset < tar.length; offset += 64 * 1024) call.write({ part: { $case: 'chunk', value: tar.subarray(offset, offset + 64 * 1024) } });
      call.end();
    });
  }

  it('pushes the real pcb-aoi package in chunks, lists, promotes, and downloads it signed by the registry', async () => {
    const { version, error } = await push(await pcbAoiPackage(dataDir, { signer: publisher }));
    expect(error).toBeUndefined();
    expect(version).toMatchObject({ name: 'pcb-aoi', version: 1, task: 'classification', notes: 'over gRPC', metrics: { accuracy: 0.95 }, author: 'engineer@grpc.test' });
    expect(JSON.parse(version!.validationJson)).toMatchObject({ provider: 'cpu', goldenSamples: 2 });

    const listed = await new Promise((resolve, reject) => client.listModels({}, as('labeler'), (failure, response) => (failure ? reject(failure) : resolve(response))));
    expect(listed).toEqual({ models: [{ name: 'pcb-aoi', project: '', task: 'classification', latestVersion: 1, aliases: {} }] });

    const promoted = await new Promise<ModelVersion>((resolve, reject) =>
      client.setAlias({ name: 'pcb-aoi', version: 1, alias: 'staging', reason: 'canary on line 3' }, as('engineer'), (failure, response) => (failure ? reject(failure) : resolve(response))),
    );
    expect(promoted.aliases).toEqual(['staging']);

    const parts: DownloadModelResponse[] = [];
    await new Promise<void>((resolve, reject) => {
      const stream = client.downloadModel({ name: 'pcb-aoi', version: 1 }, as('engineer'));
      stream.on('data', (part: DownloadModelResponse) => parts.push(part));
      stream.on('error', reject);
      stream.on('end', () => resolve());
    });
    const [header, ...chunks] = parts;
    expect(header?.part?.$case).toBe('header');
    const tar = Buffer.concat(chunks.map((part) => (part.part?.$case === 'chunk' ? part.part.value : Buffer.alloc(0))));
    expect(header?.part?.$case === 'header' && header.part.value).toEqual({ packageBytes: tar.length, sha256: version!.sha256 });
    const keys = (await (await fetch(`${cloud.httpUrl}/api/registry/keys`)).json()) as { keys: { publicKeyPem: string }[] };
    const unpacked = join(await mkdtemp(join(dataDir, 'download-')), 'package');
    await unpackPackage(Readable.from(tar), unpacked);
    expect((await verifyPackage(unpacked, new TrustedKeys(keys.keys.map((key) => key.publicKeyPem)))).manifest.signature?.keyId).toBe(version!.keyId);
  }, 60_000);

  it('refuses a tampered package with its reason in a trailer, and checks sessions and roles', async () => {
    const unsigned = await push(await pcbAoiPackage(dataDir, { signer: null }));
    expect(unsigned.error?.code).toBe(status.FAILED_PRECONDITION);
    expect(unsigned.error?.metadata.get(REFUSAL_TRAILER)).toEqual(['unsigned']);
    expect(unsigned.error?.details).toMatch(/not signed/);

    const signed = await pcbAoiPackage(dataDir, { signer: publisher });
    expect((await push(signed, 'labeler')).error?.code).toBe(status.PERMISSION_DENIED);
    const anonymous = await push(signed, null);
    expect(anonymous.error?.code).toBe(status.UNAUTHENTICATED);
    const missing = await new Promise<ServiceError | null>((resolve) => client.getModelVersion({ name: 'pcb-aoi', version: 99 }, as('labeler'), (failure) => resolve(failure)));
    expect(missing?.code).toBe(status.NOT_FOUND);
  }, 60_000);
});
