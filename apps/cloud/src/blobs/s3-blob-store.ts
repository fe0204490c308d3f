import type { Readable } from 'node:stream';
import { GetObjectCommand, HeadBucketCommand, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { assertValidBlobKey, type BlobStore } from './blob-store';

export interface S3BlobStoreOptions {
  bucket: string;
  region: string;
  endpoint?: string;
  forcePathStyle: boolean;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

/** Blobs in an S3 bucket (AWS, or any S3-compatible store via `endpoint`). */
export class S3BlobStore implements BlobStore {
  readonly location: string;
  private readonly client: S3Client;

  constructor(private readonly options: S3BlobStoreOptions) {
    this.location = `s3://${options.bucket}${options.endpoint ? ` at ${options.endpoint}` : ''}`;
    this.client = new S3Client({
      region: options.region,
      forcePathStyle: options.forcePathStyle,
      ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
      ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    });
  }

  async put(key: string, body: Buffer, contentType: string): Promise<void> {
    assertValidBlobKey(key);
    await this.client.send(new PutObjectCommand({ Bucket: this.options.bucket, Key: key, Body: body, ContentType: contentType }));
  }

  async get(key: string): Promise<Buffer | undefined> {
    assertValidBlobKey(key);
    try {
      const object = await this.client.send(new GetObjectCommand({ Bucket: this.options.bucket, Key: key }));
      return object.Body ? Buffer.from(await object.Body.transformToByteArray()) : Buffer.alloc(0);
    } catch (error) {
      if (error instanceof NoSuchKey) return undefined;
      throw error;
    }
  }

  async open(key: string, from = 0): Promise<{ stream: Readable; bytes: number } | undefined> {
    assertValidBlobKey(key);
    try {
      const object = await this.client.send(
        new GetObjectCommand({ Bucket: this.options.bucket, Key: key, ...(from > 0 ? { Range: `bytes=${from}-` } : {}) }),
      );
      // A ranged answer's Content-Range ends with the whole size: `bytes 100-999/1000`.
      const whole = object.ContentRange ? Number(object.ContentRange.split('/')[1]) : object.ContentLength;
      // In Node the SDK's body is an http.IncomingMessage, a Readable.
      return { stream: object.Body as Readable, bytes: whole ?? 0 };
    } catch (error) {
      if (error instanceof NoSuchKey) return undefined;
      throw error;
    }
  }

  downloadUrl(key: string, seconds: number): Promise<string> {
    assertValidBlobKey(key);
    return getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.options.bucket, Key: key }), { expiresIn: seconds });
  }

  async check(): Promise<void> {
    await this.client.send(new HeadBucketCommand({ Bucket: this.options.bucket }));
  }

  close(): void {
    this.client.destroy();
  }
}
