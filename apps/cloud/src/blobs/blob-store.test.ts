import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startTestObjectStore, type TestObjectStore } from '@loupe/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobConflictError, InvalidBlobKeyError, type BlobStore } from './blob-store';
import { FolderBlobStore } from './folder-blob-store';
import { S3BlobStore } from './s3-blob-store';

let objectStore: TestObjectStore;
// s3rver as it comes, ignoring If-None-Match: the store's fallback for such S3-compatible stores.
let unconditionalStore: TestObjectStore;
let folder: string;
const s3On = (store: TestObjectStore) =>
  new S3BlobStore({
    bucket: store.bucket,
    region: store.region,
    endpoint: store.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: store.accessKeyId, secretAccessKey: store.secretAccessKey },
  });
const stores = {
  folder: (): BlobStore => new FolderBlobStore(folder),
  s3: (): S3BlobStore => s3On(objectStore),
  's3 without conditional puts': (): S3BlobStore => s3On(unconditionalStore),
};

beforeAll(async () => {
  [objectStore, unconditionalStore] = await Promise.all([startTestObjectStore(), startTestObjectStore(process.env, { conditionalPuts: false })]);
  folder = await mkdtemp(join(tmpdir(), 'loupe-blobs-'));
});
afterAll(async () => {
  await Promise.all([objectStore?.stop(), unconditionalStore?.stop()]);
  await rm(folder, { recursive: true, force: true });
});

describe.each(Object.keys(stores) as (keyof typeof stores)[])('%s blob store', (name) => {
  const store = () => stores[name]();
  const kind = name.replaceAll(' ', '-');

  it('returns what was put', async () => {
    await store().put('samples/plant-7/a1.jpg', Buffer.from('jpeg'), 'image/jpeg');
    expect((await store().get('samples/plant-7/a1.jpg'))?.toString()).toBe('jpeg');
  });

  it('answers undefined for a key it never stored', async () => {
    expect(await store().get('samples/none.jpg')).toBeUndefined();
    expect(await store().open('samples/none.jpg')).toBeUndefined();
  });

  it('streams what was put, with its size', async () => {
    const body = Buffer.alloc(300_000, 7);
    await store().put('models/m/1/package.tar', body, 'application/x-tar');
    const opened = (await store().open('models/m/1/package.tar'))!;
    const chunks: Buffer[] = [];
    for await (const chunk of opened.stream) chunks.push(chunk as Buffer);
    expect({ bytes: opened.bytes, equal: Buffer.concat(chunks).equals(body) }).toEqual({ bytes: body.length, equal: true });
  });

  it('streams from a byte on, to resume a cut download, still naming the whole size', async () => {
    const body = Buffer.from(Array.from({ length: 70_000 }, (_, index) => index % 251));
    await store().put('models/m/3/package.tar', body, 'application/x-tar');
    const opened = (await store().open('models/m/3/package.tar', 65_536))!;
    const chunks: Buffer[] = [];
    for await (const chunk of opened.stream) chunks.push(chunk as Buffer);
    expect({ bytes: opened.bytes, rest: Buffer.concat(chunks).equals(body.subarray(65_536)) }).toEqual({ bytes: body.length, rest: true });
  });

  it('refuses keys that would escape its namespace', async () => {
    for (const key of ['../etc/passwd', 'a//b', '/abs', 'a/./b', 'sp ace']) {
      await expect(store().put(key, Buffer.from('x'), 'text/plain')).rejects.toThrow(InvalidBlobKeyError);
    }
  });

  it('reports itself healthy when reachable', async () => {
    await expect(store().check()).resolves.toBeUndefined();
  });

  it('writes a key once: the same bytes again succeed, other bytes are refused as a conflict and leave the first', async () => {
    const key = `once/${kind}/a.jpg`;
    await store().put(key, Buffer.from('first'), 'image/jpeg');
    await expect(store().put(key, Buffer.from('first'), 'image/jpeg')).resolves.toBeUndefined();
    await expect(store().put(key, Buffer.from('other'), 'image/jpeg')).rejects.toThrow(BlobConflictError);
    expect((await store().get(key))?.toString()).toBe('first');
  });

  it('lets every concurrent writer of the same bytes to one key succeed', async () => {
    const key = `once/${kind}/same.bin`;
    const outcomes = await Promise.allSettled(Array.from({ length: 8 }, () => store().put(key, Buffer.from('same bytes'), 'application/octet-stream')));
    expect(outcomes.map((outcome) => outcome.status)).toEqual(Array.from({ length: 8 }, () => 'fulfilled'));
  });
});

describe('folder blob store', () => {
  it('lets exactly one of many concurrent writers of different bytes to one key win, and keeps its bytes', async () => {
    const store = new FolderBlobStore(folder);
    const bodies = Array.from({ length: 8 }, (_, index) => Buffer.from(`writer ${index}`));
    const outcomes = await Promise.allSettled(bodies.map((body) => store.put('race/one.bin', body, 'application/octet-stream')));
    const winners = outcomes.flatMap((outcome, index) => (outcome.status === 'fulfilled' ? [index] : []));
    expect(winners).toHaveLength(1);
    const refusals = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason as unknown] : []));
    expect(refusals.map((reason) => reason instanceof BlobConflictError)).toEqual(Array.from({ length: 7 }, () => true));
    expect(await store.get('race/one.bin')).toEqual(bodies[winners[0]!]);
    expect(await readdir(join(folder, 'race'))).toEqual(['one.bin']);
  });

  it('leaves no temporary files behind', async () => {
    await new FolderBlobStore(folder).put('clean/one.bin', Buffer.from('1'), 'application/octet-stream');
    expect(await readdir(join(folder, 'clean'))).toEqual(['one.bin']);
  });
});

describe('S3 blob store', () => {
  it('finds out whether the store honours conditional puts, and checks before and after each put on one that does not', async () => {
    const method = await stores.s3().writeOnceMethod();
    // Printed so a run shows which way write-once was enforced on this store.
    process.stdout.write(`S3 write-once on ${objectStore.kind}: ${method}\n`);
    if (objectStore.kind === 's3rver') expect(method).toBe('conditional-put');
    else expect(['conditional-put', 'check-before-and-after']).toContain(method);
    if (unconditionalStore.kind === 's3rver') expect(await stores['s3 without conditional puts']().writeOnceMethod()).toBe('check-before-and-after');
  });

  it('compares by content with an object written without its hash in the metadata', async () => {
    const client = new S3Client({
      region: objectStore.region,
      endpoint: objectStore.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: objectStore.accessKeyId, secretAccessKey: objectStore.secretAccessKey },
    });
    await client.send(new PutObjectCommand({ Bucket: objectStore.bucket, Key: 'legacy/a.jpg', Body: Buffer.from('old bytes') }));
    client.destroy();
    await expect(stores.s3().put('legacy/a.jpg', Buffer.from('old bytes'), 'image/jpeg')).resolves.toBeUndefined();
    await expect(stores.s3().put('legacy/a.jpg', Buffer.from('new bytes'), 'image/jpeg')).rejects.toThrow(BlobConflictError);
  });

  it('hands out a presigned URL that fetches the object without the store credentials', async () => {
    const store = stores.s3();
    await store.put('models/m/2/package.tar', Buffer.from('tar bytes'), 'application/x-tar');
    const url = await store.downloadUrl('models/m/2/package.tar', 60);
    expect(url).toMatch(/X-Amz-Expires=60&.*X-Amz-Signature=/);
    expect(await (await fetch(url)).text()).toBe('tar bytes');
  });

  it('reports an unreachable endpoint as unhealthy', async () => {
    const unreachable = new S3BlobStore({
      bucket: 'loupe-missing',
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
    });
    await expect(unreachable.check()).rejects.toThrow();
    unreachable.close();
  });
});
