import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestObjectStore, type TestObjectStore } from '@loupe/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidBlobKeyError, type BlobStore } from './blob-store';
import { FolderBlobStore } from './folder-blob-store';
import { S3BlobStore } from './s3-blob-store';

let objectStore: TestObjectStore;
let folder: string;
const stores: Record<string, () => BlobStore> = {
  folder: () => new FolderBlobStore(folder),
  s3: () =>
    new S3BlobStore({
      bucket: objectStore.bucket,
      region: objectStore.region,
      endpoint: objectStore.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: objectStore.accessKeyId, secretAccessKey: objectStore.secretAccessKey },
    }),
};

beforeAll(async () => {
  objectStore = await startTestObjectStore();
  folder = await mkdtemp(join(tmpdir(), 'loupe-blobs-'));
});
afterAll(async () => {
  await objectStore?.stop();
  await rm(folder, { recursive: true, force: true });
});

describe.each(Object.keys(stores))('%s blob store', (kind) => {
  const store = () => stores[kind]!();

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
});

describe('folder blob store', () => {
  it('leaves no temporary files behind', async () => {
    await new FolderBlobStore(folder).put('clean/one.bin', Buffer.from('1'), 'application/octet-stream');
    expect(await readdir(join(folder, 'clean'))).toEqual(['one.bin']);
  });
});

describe('S3 blob store', () => {
  it('hands out a presigned URL that fetches the object without the store credentials', async () => {
    const store = stores.s3!();
    await store.put('models/m/2/package.tar', Buffer.from('tar bytes'), 'application/x-tar');
    const url = (await store.downloadUrl('models/m/2/package.tar', 60))!;
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
