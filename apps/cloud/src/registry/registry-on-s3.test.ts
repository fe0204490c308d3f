import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { generateSigningKey, publicKeyToPem, TrustedKeys, unpackPackage, verifyPackage } from '@loupe/model-package';
import { startTestBroker, startTestDatabase, startTestObjectStore, type TestBroker, type TestDatabase, type TestObjectStore } from '@loupe/testing';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCloud, type RunningCloud } from '../cloud-runtime';
import { pcbAoiPackage } from '../testing/model-packages';
import { signedInAsAdmin } from '../testing/sign-in';
import { testCloudConfig } from '../testing/test-cloud-config';

describe('the model registry on S3', () => {
  let database: TestDatabase;
  let broker: TestBroker;
  let objectStore: TestObjectStore;
  let dataDir: string;
  let cloud: RunningCloud;
  const publisher = generateSigningKey();

  beforeAll(async () => {
    [database, broker, objectStore] = await Promise.all([startTestDatabase(), startTestBroker(), startTestObjectStore()]);
    dataDir = await mkdtemp(join(tmpdir(), 'loupe-registry-s3-'));
    await writeFile(join(dataDir, 'publishers.pem'), publicKeyToPem(publisher.publicKey));
    cloud = await startCloud(
      testCloudConfig({
        dataDir,
        database,
        brokerUrl: broker.url,
        topicRoot: broker.topicRoot,
        blobs: {
          kind: 's3',
          bucket: objectStore.bucket,
          region: objectStore.region,
          endpoint: objectStore.endpoint,
          forcePathStyle: true,
          credentials: { accessKeyId: objectStore.accessKeyId, secretAccessKey: objectStore.secretAccessKey },
        },
        publisherKeysFile: join(dataDir, 'publishers.pem'),
      }),
      pino({ level: 'silent' }),
    );
  }, 60_000);

  afterAll(async () => {
    await cloud?.stop();
    await Promise.all([database?.stop(), broker?.stop(), objectStore?.stop()]);
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('stores the package in the bucket and hands it out by a presigned URL that verifies', async () => {
    const session = (await signedInAsAdmin(cloud.httpUrl)).headers as Record<string, string>;
    const pushed = await fetch(`${cloud.httpUrl}/api/models`, {
      method: 'POST',
      headers: { ...session, 'content-type': 'application/x-tar' },
      body: await pcbAoiPackage(dataDir, { signer: publisher }),
    });
    expect(pushed.status).toBe(201);

    const download = await fetch(`${cloud.httpUrl}/api/models/pcb-aoi/versions/1/package`, { headers: session, redirect: 'manual' });
    expect(download.status).toBe(307);
    const location = download.headers.get('location') ?? '';
    expect(location.startsWith(`${objectStore.endpoint}/${objectStore.bucket}/models/pcb-aoi/1/package.tar?`)).toBe(true);
    // The URL alone is enough: no session, no S3 credentials.
    const tar = Buffer.from(await (await fetch(location)).arrayBuffer());
    const unpacked = join(await mkdtemp(join(dataDir, 'download-')), 'package');
    await unpackPackage(Readable.from(tar), unpacked);
    const keys = (await (await fetch(`${cloud.httpUrl}/api/registry/keys`)).json()) as { keys: { publicKeyPem: string }[] };
    expect((await verifyPackage(unpacked, new TrustedKeys(keys.keys.map((key) => key.publicKeyPem)))).model.name).toBe('pcb-aoi');
  }, 60_000);
});
