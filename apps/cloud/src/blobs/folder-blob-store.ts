import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { access, constants, mkdir, open, readFile, rename, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { dirname, join } from 'node:path';
import { assertValidBlobKey, type BlobStore } from './blob-store';

/**
 * Blobs as files under one folder, for a single machine. A blob appears
 * whole or not at all: it is written to a temporary file, fsync'd, renamed
 * into place, and the folder is fsync'd so the rename survives power loss.
 */
export class FolderBlobStore implements BlobStore {
  readonly location: string;

  constructor(private readonly directory: string) {
    this.location = `folder ${directory}`;
  }

  /** A folder keeps no metadata, so the content type is not stored. */
  async put(key: string, body: Buffer, _contentType: string): Promise<void> {
    const path = this.pathOf(key);
    await mkdir(dirname(path), { recursive: true });
    const temporary = `${path}.${randomBytes(6).toString('hex')}.partial`;
    const file = await open(temporary, 'w');
    try {
      await file.writeFile(body);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporary, path);
    const folder = await open(dirname(path), 'r');
    try {
      await folder.sync();
    } finally {
      await folder.close();
    }
  }

  async exists(key: string): Promise<boolean> {
    try {
      return (await stat(this.pathOf(key))).isFile();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
  }

  async get(key: string): Promise<Buffer | undefined> {
    try {
      return await readFile(this.pathOf(key));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async open(key: string, from = 0): Promise<{ stream: Readable; bytes: number } | undefined> {
    const path = this.pathOf(key);
    const stats = await stat(path).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    return stats && { stream: createReadStream(path, { start: from }), bytes: stats.size };
  }

  /** Files are only reached through the cloud. */
  downloadUrl(): Promise<undefined> {
    return Promise.resolve(undefined);
  }

  async check(): Promise<void> {
    await mkdir(this.directory, { recursive: true });
    await access(this.directory, constants.W_OK);
  }

  private pathOf(key: string): string {
    assertValidBlobKey(key);
    return join(this.directory, key);
  }
}
