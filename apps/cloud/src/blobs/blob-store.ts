import type { Readable } from 'node:stream';
/** A key that would leave the store's namespace (`..`, absolute, empty parts). */
export class InvalidBlobKeyError extends Error {
  constructor(key: string) {
    super(`blob key "${key}" is invalid: use '/'-separated parts of letters, digits, '.', '_' or '-', without '..'`);
    this.name = 'InvalidBlobKeyError';
  }
}

/**
 * The key holds other bytes already. Keys are write-once: a second put of
 * the same bytes is harmless (a retry), of other bytes a conflict.
 */
export class BlobConflictError extends Error {
  constructor(readonly key: string) {
    super(`blob key "${key}" already holds different bytes; keys are written once`);
    this.name = 'BlobConflictError';
  }
}

/** The store refused this object for what it is (its size, its metadata), not because it is down. */
export class BlobRefusedError extends Error {
  constructor(
    readonly key: string,
    detail: string,
  ) {
    super(`the blob store refused "${key}": ${detail}`);
    this.name = 'BlobRefusedError';
  }
}

/**
 * Where images and model packages live: S3 (or any S3-compatible store) at
 * scale, a folder on one machine. Keys look like `samples/plant-7/ab12.jpg`.
 */
export interface BlobStore {
  /** For logs and health output, e.g. `s3://loupe-samples`. */
  readonly location: string;
  /**
   * Stores `body` under `key`, durably, if the key is free. Write-once: when
   * the key holds the same bytes already it succeeds without writing (a
   * retry after a crash); when it holds other bytes it throws
   * BlobConflictError and leaves them. Never replaces what a key holds.
   */
  put(key: string, body: Buffer, contentType: string): Promise<void>;
  /** The bytes under `key`, or undefined when there are none. */
  get(key: string): Promise<Buffer | undefined>;
  /**
   * The bytes under `key` as a stream, for objects too big to hold in
   * memory, from byte `from` on (to resume a cut download); `bytes` is the
   * whole object's size. Undefined when there are none.
   */
  open(key: string, from?: number): Promise<{ stream: Readable; bytes: number } | undefined>;
  /**
   * A URL anyone holding it can fetch the object from for `seconds`, so big
   * downloads bypass the cloud (S3 presigned GET); undefined when the store
   * has no such URLs (a folder).
   */
  downloadUrl(key: string, seconds: number): Promise<string | undefined>;
  /** Throws when the store cannot be reached or written. */
  check(): Promise<void>;
}

const KEY_PART = /^[A-Za-z0-9._-]+$/;

export function assertValidBlobKey(key: string): void {
  const parts = key.split('/');
  if (key.length > 1024 || parts.some((part) => !KEY_PART.test(part) || part === '.' || part === '..')) {
    throw new InvalidBlobKeyError(key);
  }
}
