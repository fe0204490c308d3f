import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import fc from 'fast-check';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeObjectWritesAtomic } from './s3rver-atomic-put';
import { honourConditionalPuts } from './s3rver-conditional-put';
import { s3ClientFor } from './test-object-store';

const BUCKET = 'atomic';

describe('s3rver with all-or-nothing object writes', () => {
  let directory: string;
  let server: S3rver;
  let client: S3Client;

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'loupe-s3-atomic-'));
    server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory });
    honourConditionalPuts(server);
    makeObjectWritesAtomic(server);
    const { port } = await server.run();
    client = s3ClientFor({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' });
    await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  });
  afterAll(async () => {
    client.destroy();
    await server.close();
    await rm(directory, { recursive: true, force: true });
  });

  it('stores bytes and metadata as written', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 70_000 }), fc.stringMatching(/^[a-z0-9]{1,12}$/), async (bytes, tag) => {
        const key = `written/${tag}-${bytes.length}`;
        await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: bytes, Metadata: { tag } }));
        const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
        expect(head.Metadata).toEqual({ tag });
        const got = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
        expect(Buffer.from(await got.Body!.transformToByteArray())).toEqual(Buffer.from(bytes));
      }),
      { numRuns: 25 },
    );
  });

  it('treats what a killed write left staged as absent: not listed, and a conditional put of its key succeeds', async () => {
    // What a write killed before its rename leaves: staged bytes and the metadata, no object.
    const folder = join(directory, BUCKET, 'torn');
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, 'image.jpg._S3rver_object.staging-killed'), Buffer.from('half an ima'));
    await writeFile(join(folder, 'image.jpg._S3rver_metadata.json'), JSON.stringify({ 'x-amz-meta-sha256': 'of the whole image' }));

    const listed = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'torn/' }));
    expect(listed.Contents ?? []).toEqual([]);
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'torn/image.jpg', Body: Buffer.from('the whole image'), IfNoneMatch: '*', Metadata: { sha256: 'new' } }));
    const got = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'torn/image.jpg' }));
    expect(await got.Body!.transformToString()).toBe('the whole image');
    expect(got.Metadata).toEqual({ sha256: 'new' });
  });
});
