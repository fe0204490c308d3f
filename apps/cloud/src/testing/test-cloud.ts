import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSigningKey, publicKeyToPem, type SigningKey } from '@loupe/model-package';
import { startTestBroker, startTestDatabase, startTestObjectStore, type TestDatabase, type TestObjectStore } from '@loupe/testing';
import { pino } from 'pino';
import { startCloud, type RunningCloud } from '../cloud-runtime';
import type { CloudConfig } from '../config/cloud-config';
import { testCloudConfig } from './test-cloud-config';

export interface TestCloud {
  cloud: RunningCloud;
  database: TestDatabase;
  /** A scratch folder of the test's own, removed by stop(). */
  dataDir: string;
  /** A model publisher the cloud's registry trusts. */
  publisher: SigningKey;
  objectStore?: TestObjectStore;
  stop(): Promise<void>;
}

/**
 * A cloud in this process on a fresh database and broker, with its blobs in
 * a folder or, with `s3`, on the test object store, for tests of its APIs.
 */
export async function startTestCloud({
  s3 = false,
  signIn,
  training,
}: { s3?: boolean; signIn?: Partial<CloudConfig['signIn']>; training?: Partial<CloudConfig['training']> } = {}): Promise<TestCloud> {
  const [database, broker, objectStore] = await Promise.all([startTestDatabase(), startTestBroker(), s3 ? startTestObjectStore() : undefined]);
  const dataDir = await mkdtemp(join(tmpdir(), 'loupe-cloud-test-'));
  const publisher = generateSigningKey();
  await writeFile(join(dataDir, 'publishers.pem'), publicKeyToPem(publisher.publicKey));
  const blobs: CloudConfig['blobs'] = objectStore
    ? {
        kind: 's3',
        bucket: objectStore.bucket,
        region: objectStore.region,
        endpoint: objectStore.endpoint,
        forcePathStyle: true,
        credentials: { accessKeyId: objectStore.accessKeyId, secretAccessKey: objectStore.secretAccessKey },
      }
    : { kind: 'folder', directory: join(dataDir, 'blobs') };
  const cloud = await startCloud(
    testCloudConfig({ dataDir, database, brokerUrl: broker.url, topicRoot: broker.topicRoot, blobs, publisherKeysFile: join(dataDir, 'publishers.pem'), ...(signIn ? { signIn } : {}), ...(training ? { training } : {}) }),
    pino({ level: 'silent' }),
  );
  return {
    cloud,
    database,
    dataDir,
    publisher,
    ...(objectStore ? { objectStore } : {}),
    async stop() {
      await cloud.stop();
      await Promise.all([database.stop(), broker.stop(), objectStore?.stop()]);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
