import { createHash, randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  type PutObjectCommandInput,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Logger } from 'pino';
import { assertValidBlobKey, BlobConflictError, BlobRefusedError, type BlobStore } from './blob-store';

export interface S3BlobStoreOptions {
  bucket: string;
  region: string;
  endpoint?: string;
  forcePathStyle: boolean;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

/**
 * How a put keeps keys write-once: a conditional put (`If-None-Match: *`,
 * which S3 has honoured since 2024, as do MinIO and R2), or, on a store that
 * ignores the header (s3rver), a look before and after the put.
 */
export type WriteOnceMethod = 'conditional-put' | 'check-before-and-after';

// S3 error codes that describe the object sent, not the store's health.
const CONTENT_REFUSALS = new Set(['InvalidArgument', 'KeyTooLongError', 'EntityTooLarge', 'InvalidDigest', 'BadDigest', 'MetadataTooLarge']);

const statusOf = (error: unknown) => (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
const sha256Of = (body: Uint8Array) => createHash('sha256').update(body).digest('hex');

/** Blobs in an S3 bucket (AWS, or any S3-compatible store via `endpoint`). */
export class S3BlobStore implements BlobStore {
  readonly location: string;
  private readonly client: S3Client;
  private writeOnce: Promise<WriteOnceMethod> | undefined;

  constructor(
    private readonly options: S3BlobStoreOptions,
    private readonly logger?: Logger,
  ) {
    this.location = `s3://${options.bucket}${options.endpoint ? ` at ${options.endpoint}` : ''}`;
    this.client = new S3Client({
      region: options.region,
      forcePathStyle: options.forcePathStyle,
      ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
      ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    });
  }

  /**
   * Each object carries the SHA-256 of its bytes in its metadata, so a
   * second writer of a key learns from a HEAD whether it holds the same
   * bytes (a retry) or other ones (a conflict).
   */
  async put(key: string, body: Buffer, contentType: string): Promise<void> {
    assertValidBlobKey(key);
    const sha256 = sha256Of(body);
    const object: PutObjectCommandInput = { Bucket: this.options.bucket, Key: key, Body: body, ContentType: contentType, Metadata: { sha256 } };
    if ((await this.writeOnceMethod()) === 'conditional-put') {
      try {
        await this.client.send(new PutObjectCommand({ ...object, IfNoneMatch: '*' }));
        return;
      } catch (error) {
        // 412: the key exists (a 409 says a conditional put of it is in flight: try again later).
        if (statusOf(error) !== 412) throw refusalOf(error, key);
      }
      if ((await this.holds(key, sha256)) !== 'same') throw new BlobConflictError(key);
      return;
    }
    // Not atomic: two writers of one key whose looks both come before either
    // put can both succeed, and the later bytes stay. The look afterwards
    // catches a writer that came before; it cannot catch one that comes after.
    const before = await this.holds(key, sha256);
    if (before === 'same') return;
    if (before === 'different') throw new BlobConflictError(key);
    await this.client.send(new PutObjectCommand(object)).catch((error: unknown) => {
      throw refusalOf(error, key);
    });
    if ((await this.holds(key, sha256)) !== 'same') throw new BlobConflictError(key);
  }

  /**
   * Whether this store honours conditional puts, found out once by trying:
   * a second `If-None-Match: *` put of a fresh probe key must be refused.
   */
  writeOnceMethod(): Promise<WriteOnceMethod> {
    this.writeOnce ??= this.probeConditionalPut().catch((error: unknown) => {
      this.writeOnce = undefined;
      throw error;
    });
    return this.writeOnce;
  }

  private async probeConditionalPut(): Promise<WriteOnceMethod> {
    const probe = { Bucket: this.options.bucket, Key: `loupe-probes/conditional-put-${randomUUID()}` };
    const put = () => this.client.send(new PutObjectCommand({ ...probe, Body: Buffer.alloc(0), ContentLength: 0, IfNoneMatch: '*' }));
    await put();
    let method: WriteOnceMethod = 'check-before-and-after';
    try {
      await put();
    } catch (error) {
      if (statusOf(error) !== 412) throw error;
      method = 'conditional-put';
    }
    await this.client.send(new DeleteObjectCommand(probe)).catch(() => undefined);
    if (method === 'conditional-put') this.logger?.info({ store: this.location }, 'blob store honours conditional puts; keys are written once');
    else {
      this.logger?.warn(
        { store: this.location },
        'blob store ignores If-None-Match on PUT; write-once keys are checked before and after each put, which two writers of one key at the same moment can still slip past',
      );
    }
    return method;
  }

  /** Whether `key` is free, or holds the bytes with this SHA-256, or other ones. */
  private async holds(key: string, sha256: string): Promise<'absent' | 'same' | 'different'> {
    let stored: string | undefined;
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.options.bucket, Key: key }));
      stored = head.Metadata?.sha256;
    } catch (error) {
      if (statusOf(error) === 404) return 'absent';
      throw error;
    }
    // An object written before objects carried their hash.
    stored ??= sha256Of((await this.get(key)) ?? Buffer.alloc(0));
    return stored === sha256 ? 'same' : 'different';
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

/** A refusal of the object itself as BlobRefusedError; anything else (the store down, denied, throttled) as it came. */
function refusalOf(error: unknown, key: string): unknown {
  const code = (error as { name?: string }).name;
  return code !== undefined && CONTENT_REFUSALS.has(code) ? new BlobRefusedError(key, `${code}: ${(error as Error).message}`) : error;
}
