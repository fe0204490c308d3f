import type { EventEmitter } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { makeObjectWritesAtomic } from './s3rver-atomic-put';
import { honourConditionalPuts } from './s3rver-conditional-put';
import { uniqueName } from './unique-name';

export interface TestObjectStore {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** An empty bucket that only this test uses; removed by stop(). */
  bucket: string;
  /** `external` when `S3_ENDPOINT` named a store, `s3rver` otherwise. */
  kind: 'external' | 's3rver';
  /**
   * How many times each key of the bucket has been written (PUT or copy),
   * where the test can see the store's writes: on s3rver, not on an
   * external store.
   */
  writes?: ReadonlyMap<string, number>;
  stop(): Promise<void>;
}

/** s3rver accepts any credentials; these are what its docs use. */
const S3RVER_KEY = 'S3RVER';

/**
 * An S3-protocol store for one test file: the one at `S3_ENDPOINT` (with
 * `S3_REGION`, `S3_ACCESS_KEY_ID`, `S3_SECRET_ACCESS_KEY`), or s3rver on a
 * loopback port over a temporary folder, which honours conditional puts as
 * S3 does (honourConditionalPuts) and writes each object all or nothing
 * (makeObjectWritesAtomic).
 */
export async function startTestObjectStore(
  env: NodeJS.ProcessEnv = process.env,
  options: {
    /** false: s3rver as it comes, ignoring If-None-Match on PUT and overwriting, for code's fallback on such stores. */
    conditionalPuts?: boolean;
  } = {},
): Promise<TestObjectStore> {
  const bucket = uniqueName('loupe-test');
  if (env.S3_ENDPOINT) {
    const store = {
      endpoint: env.S3_ENDPOINT,
      region: env.S3_REGION ?? 'us-east-1',
      accessKeyId: env.S3_ACCESS_KEY_ID ?? '',
      secretAccessKey: env.S3_SECRET_ACCESS_KEY ?? '',
      bucket,
    };
    const client = s3ClientFor(store);
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    return { ...store, kind: 'external', stop: () => removeBucket(client, bucket) };
  }

  const directory = await mkdtemp(join(tmpdir(), 'loupe-s3-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory });
  const writes = new Map<string, number>();
  if (options.conditionalPuts !== false) honourConditionalPuts(server);
  makeObjectWritesAtomic(server);
  onObjectWritten(server, bucket, (key) => writes.set(key, (writes.get(key) ?? 0) + 1));
  const { port } = await server.run();
  const store = {
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    accessKeyId: S3RVER_KEY,
    secretAccessKey: S3RVER_KEY,
    bucket,
  };
  const client = s3ClientFor(store);
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  return {
    ...store,
    kind: 's3rver',
    writes,
    stop: async () => {
      client.destroy();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** What s3rver emits on 'event': S3 event notifications (https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html). */
interface S3rverEvent {
  Records: { eventName: string; s3: { bucket: { name: string }; object: { key: string } } }[];
}

/** Calls `listener` with the key of every object of `bucket` that `server` stores (PUT or copy). */
export function onObjectWritten(server: S3rver, bucket: string, listener: (key: string) => void): void {
  // s3rver is a Koa application, so an EventEmitter, which its types leave out.
  (server as unknown as EventEmitter).on('event', (event: S3rverEvent) => {
    for (const record of event.Records) {
      if (record.eventName.startsWith('ObjectCreated:') && record.s3.bucket.name === bucket) listener(record.s3.object.key);
    }
  });
}

export function s3ClientFor(store: { endpoint: string; region: string; accessKeyId: string; secretAccessKey: string }) {
  return new S3Client({
    endpoint: store.endpoint,
    region: store.region,
    forcePathStyle: true,
    credentials: { accessKeyId: store.accessKeyId, secretAccessKey: store.secretAccessKey },
  });
}

async function removeBucket(client: S3Client, bucket: string): Promise<void> {
  for (;;) {
    const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
    const keys = (listed.Contents ?? []).flatMap((object) => (object.Key ? [{ Key: object.Key }] : []));
    if (keys.length === 0) break;
    await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys } }));
  }
  await client.send(new DeleteBucketCommand({ Bucket: bucket }));
  client.destroy();
}
