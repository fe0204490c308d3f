import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { TrustedKeys, unpackPackage, verifyPackage } from '@loupe/model-package';
import type { TestObjectStore } from '@loupe/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningCloud } from '../cloud-runtime';
import { pcbAoiPackage } from '../testing/model-packages';
import { signedInAsAdmin } from '../testing/sign-in';
import { startTestCloud, type TestCloud } from '../testing/test-cloud';

describe('the model registry on S3', () => {
  let testCloud: TestCloud;
  let cloud: RunningCloud;
  let objectStore: TestObjectStore;

  beforeAll(async () => {
    testCloud = await startTestCloud({ s3: true });
    cloud = testCloud.cloud;
    objectStore = testCloud.objectStore!;
  }, 60_000);
  afterAll(() => testCloud?.stop());

  it('stores the package in the bucket and hands it out by a presigned URL that verifies', async () => {
    const session = (await signedInAsAdmin(cloud.httpUrl)).headers as Record<string, string>;
    const pushed = await fetch(`${cloud.httpUrl}/api/models`, {
      method: 'POST',
      headers: { ...session, 'content-type': 'application/x-tar' },
      body: await pcbAoiPackage(testCloud.dataDir, { signer: testCloud.publisher }),
    });
    expect(pushed.status).toBe(201);

    const download = await fetch(`${cloud.httpUrl}/api/models/pcb-aoi/versions/1/package`, { headers: session, redirect: 'manual' });
    expect(download.status).toBe(307);
    const location = download.headers.get('location') ?? '';
    expect(location).toMatch(new RegExp(`^${objectStore.endpoint}/${objectStore.bucket}/models/pcb-aoi/1/[0-9a-f]{64}\\.tar\\?`));
    // The URL alone is enough: no session, no S3 credentials.
    const tar = Buffer.from(await (await fetch(location)).arrayBuffer());
    const unpacked = join(await mkdtemp(join(testCloud.dataDir, 'download-')), 'package');
    await unpackPackage(Readable.from(tar), unpacked);
    const keys = (await (await fetch(`${cloud.httpUrl}/api/registry/keys`)).json()) as { keys: { publicKeyPem: string }[] };
    expect((await verifyPackage(unpacked, new TrustedKeys(keys.keys.map((key) => key.publicKeyPem)))).model.name).toBe('pcb-aoi');
  }, 60_000);
});
