import { createHash, randomUUID } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import type S3rver from 's3rver';

/** What s3rver hands its store for one PutObject. */
interface StoredObject {
  bucket: string;
  key: string;
  content: Buffer | Readable;
  metadata: Record<string, string>;
}

/** s3rver's filesystem store as this module uses it; its types describe only the server's public methods. */
interface FilesystemStoreInternals {
  getResourcePath(bucket: string, key: string, resource: string): string;
  putMetadata(bucket: string, key: string, metadata: Record<string, string>, md5: string): Promise<void>;
  putObject(object: StoredObject): Promise<{ size: number; md5: string }>;
}

/**
 * Makes every object write all or nothing, as a PUT to S3 is. s3rver writes
 * an object's bytes in place and its metadata after them, so a store killed
 * between the two (the fault matrix kills it) keeps a torn object: one
 * without the writer's metadata, or cut short. A retried conditional put of
 * that key is then refused with 412 and its writer finds other bytes there,
 * which no real S3 can show. Here the bytes go to a staging file beside the
 * object (its name lacks s3rver's object suffix, so no listing shows it), the
 * metadata is written, and a rename makes the object appear whole.
 */
export function makeObjectWritesAtomic(server: S3rver): void {
  const store = (server as unknown as { store: FilesystemStoreInternals }).store;
  store.putObject = async (object) => {
    const objectPath = store.getResourcePath(object.bucket, object.key, 'object');
    await mkdir(dirname(objectPath), { recursive: true });
    const content = Buffer.isBuffer(object.content) ? object.content : await buffer(object.content);
    const md5 = createHash('md5').update(content).digest('hex');
    const staging = `${objectPath}.staging-${randomUUID()}`;
    await writeFile(staging, content);
    await store.putMetadata(object.bucket, object.key, object.metadata, md5);
    await rename(staging, objectPath);
    return { size: content.length, md5 };
  };
}
